"""``monitor demo``: the whole pipeline, offline, on our invented corpus."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli._base import handle_errors, main


@main.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=Path("db/demo.db"),
              show_default=True, help="Demo database to (re)create. An existing file there is replaced only if the demo made it.")
@handle_errors
def demo(db_path: Path) -> None:
    """Run the pipeline offline on the project's invented demo corpus.

    Serves a dozen invented news feeds (relevant stories and look-alike noise:
    dog grooming, beard care, ski pistes ...), a news-search endpoint, 40
    invented Reddit posts (through a fake Reddit API that the real praw reads
    with dummy credentials), invented Hansard contributions, Mastodon posts (on
    two fake instances) and Bluesky posts (through fake APIs) on 127.0.0.1,
    collects and tags them into a fresh database, posts the alerts of one priority
    rule (sextortion on Snapchat) to a chat webhook it serves itself and prints
    them, builds the daily digest (HTML, text and chart under db/demo-digest/, with
    its "In Parliament" section) and prints where to open it. Needs no configuration file, no credentials and no
    internet. Every outlet, person, member of Parliament, username and figure in
    the corpus is fictional.
    """
    from monitor.demo import run_demo

    result = run_demo(db_path, echo=click.echo)
    if result.alerts:
        import html

        stories = [html.unescape(line) for message in result.alerts for line in message.splitlines()
                   if line.startswith("• ")]
        click.echo("")
        click.echo(f"Alerts posted to the demo's chat webhook by the rule \"Sextortion on Snapchat\":"
                   f" {len(stories)} stories in {len(result.alerts)} message(s)")
        for line in stories:
            click.echo(f"  {line}")
    click.echo("")
    if result.digest_html is not None:
        click.echo("Open the digest in a browser:")
        click.echo(f"  {result.digest_html.resolve().as_uri()}")
        click.echo(f"  (plain-text version: {result.digest_text})")
        click.echo("")
    click.echo("Look inside:")
    click.echo(f"  sqlite-utils tables {result.db_path} --counts")
    click.echo(f"  sqlite-utils query {result.db_path} \"select published_at, title from items order by published_at desc limit 10\" --table")

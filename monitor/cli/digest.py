"""``monitor digest``: build, archive and (with --send) email the daily digest."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from monitor.cli._base import Context, handle_errors, main, pass_context


def parse_date(_ctx: Any, _param: Any, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD") from None


def describe(result: Any) -> list[str]:
    """What was built, in a few lines: the figures and where the files are."""
    from monitor.digest.render import hhmm, long_date, num, plural, short_date

    d = result.digest
    window = d.window
    head = d.headline
    average = f" (7-day average {num(head.average, 1)} a day)" if head.average is not None else ""
    lines = [
        f"Digest for {long_date(window.day)}: {short_date(window.local_start)} {hhmm(window.local_start)} to "
        f"{short_date(window.local_end)} {hhmm(window.local_end)} ({window.timezone})"
        + ("" if d.complete else f", PREVIEW up to {hhmm(d.generated_at)}"),
        f"  {plural(head.relevant, 'relevant item')}, {plural(head.stories, 'top story', 'top stories')}{average};"
        f" {plural(head.collected, 'item')} collected" + (f", {head.untagged} not yet tagged" if head.untagged else ""),
        f"  sources: {d.health.summary}",
        f"  HTML:  {result.html_path}",
        f"  text:  {result.text_path}",
        f"  chart: {result.chart_path or 'none (' + (d.chart.empty_reason or 'nothing to chart') + ')'}",
    ]
    for copy in result.copies:
        lines.append(f"  copy:  {copy}")
    return lines


@main.command()
@click.option("--date", "day", metavar="YYYY-MM-DD", callback=parse_date,
              help="The digest's date: the day ending at [digest] time on this date. "
                   "Default: the latest day that has ended. A day still running is built as a preview; "
                   "one that has not started is refused.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write digest.html, digest.txt and chart.png to this folder.")
@click.option("--send", is_flag=True, help="Email it to [email] recipients, unless this date was already sent.")
@click.option("--force", is_flag=True, help="With --send: send again even if this date was already sent.")
@pass_context
@handle_errors
def digest(ctx: Context, day: date | None, out_dir: Path | None, send: bool, force: bool) -> None:
    """Build the daily digest, archive it, and with --send email it.

    The digest for a date covers the day that ends at [digest] time (07:30
    Europe/London by default) on that date: headline figures against the 7-day
    average, top stories by topic (each syndicated story once), platform shares of
    grooming stories, laws mentioned, figures quoted, the most discussed Reddit
    threads, source health, and a 28-day chart. HTML, plain text and the chart are
    written under [digest] archive_dir/YYYY-MM-DD/ (re-rendered when built again)
    and recorded in the database. --send emails them (multipart, chart inline) at
    most once per date; --force sends again. Reads the configured database and
    never creates one: without it, this is an error.
    """
    if force and not send:
        raise click.UsageError("--force only applies with --send")
    from monitor.app import open_monitor
    from monitor.store.reader import require_database

    require_database(ctx.config.storage.path)  # never an empty database (and "all is well") by mistake
    with open_monitor(ctx.config) as monitor:
        built = monitor.build_digest(day, out_dir)
        for line in describe(built):
            click.echo(line)
        if send:
            result = monitor.send_digest(built.day, force=force, built=built)
            if result.status == "already_sent":
                when = result.sent_at.isoformat() if result.sent_at else "earlier"
                click.echo(f"Already sent {when} to {len(result.recipients)} recipient(s); not sending it again"
                           " (--force sends anyway).")
            else:
                again = " (again, after an interrupted attempt)" if result.resumed else ""
                click.echo(f"Sent{again} to {', '.join(result.recipients)}; Message-ID {result.message_id}")
                if result.refused:
                    click.echo(f"The server refused: {', '.join(result.refused)}")

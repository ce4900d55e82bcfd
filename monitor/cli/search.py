"""``monitor search``, ``monitor export`` and ``monitor browse``: ad hoc questions."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

import click

from monitor.cli._base import DEFAULT_CONFIG, Context, handle_errors, main, pass_context

DEFAULT_DB = "db/monitor.db"
MEDIA = ("news", "reddit", "parliament", "social")


def database_path(ctx: Context, db: Path | None) -> Path:
    """``--db``, else the configured database, else db/monitor.db when there is no config file."""
    if db is not None:
        return db
    if not ctx.explicit and ctx.config_path == Path(DEFAULT_CONFIG) and not ctx.config_path.exists():
        return Path(DEFAULT_DB)
    return Path(ctx.config.storage.path)


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Database to read. Default: [storage] path in the config (db/monitor.db).")(func)


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The item filters search and export share."""
    options = [
        click.option("--since", metavar="DATE", help="Published on or after this day (YYYY-MM-DD, UTC) or time."),
        click.option("--until", metavar="DATE", help="Published on or before this day (the whole day) or time."),
        click.option("--topic", "topics", multiple=True, metavar="T",
                     help="Tagged with this topic (grooming, grooming_gangs, sextortion, csam, "
                          "child_online_safety, legislation). Repeat for any of several."),
        click.option("--platform", "platforms", multiple=True, metavar="P",
                     help="Tagged with this platform (snapchat, instagram, roblox ...). Repeatable."),
        click.option("--legislation", "laws", multiple=True, metavar="L",
                     help="Mentions this law (online_safety_act_uk, kosa_us, ...). Repeatable."),
        click.option("--source", "sources", multiple=True, metavar="S",
                     help="Carried by this source (its name or id). Repeatable."),
        click.option("--media", "media", multiple=True, type=click.Choice(MEDIA),
                     help="Only this kind of source. Repeatable."),
        click.option("--relevant-only", is_flag=True, help="Only items the tagger found relevant."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_filter(db: Any, *, since: str | None, until: str | None, topics: tuple[str, ...],
                 platforms: tuple[str, ...], laws: tuple[str, ...], sources: tuple[str, ...],
                 media: tuple[str, ...], relevant_only: bool, match: str | None = None) -> Any:
    from monitor.store.filters import ItemFilter, lower_bound, upper_bound
    from monitor.store.search import check_tag_values, resolve_sources, validate_query

    for kind, values in (("topic", topics), ("platform", platforms), ("legislation", laws)):
        check_tag_values(db, kind, values)
    if match:
        match = validate_query(db, match)
    return ItemFilter(
        since=lower_bound(since) if since else None,
        until=upper_bound(until) if until else None,
        topics=topics, platforms=platforms, legislation=laws,
        source_ids=resolve_sources(db, sources) if sources else (),
        media=media, relevant_only=relevant_only, match=match,
    )


@main.command()
@click.argument("query")
@filter_options
@click.option("--sort", type=click.Choice(["rank", "newest"]), default="rank", show_default=True,
              help="rank: best match first (title matches count most); newest: most recently published first.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Results to show.")
@click.option("--count", "count_only", is_flag=True, help="Print only how many items match.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="table for reading, json or csv for programs and spreadsheets.")
@db_option
@pass_context
@handle_errors
def search(ctx: Context, query: str, since: str | None, until: str | None, topics: tuple[str, ...],
           platforms: tuple[str, ...], laws: tuple[str, ...], sources: tuple[str, ...], media: tuple[str, ...],
           relevant_only: bool, sort: str, limit: int, count_only: bool, fmt: str, db: Path | None) -> None:
    """Full-text search of item titles and texts, best matches first, with a snippet.

    QUERY uses SQLite FTS5 syntax: words (all must appear), "exact phrases", OR,
    NOT, NEAR(word1 word2, 10), prefixes (groom*), title: or text: to search one
    column, and parentheses. Put anything with punctuation in double quotes
    ('"37%"', '"end-to-end"'). Examples:

    \b
      monitor search '"37%"' --since 2025-06-01
      monitor search 'snapchat AND sextortion' --since 2023-10-26 --count
      monitor search 'roblox AND groom*' --media reddit
      monitor search 'NEAR(ofcom fine, 10)' --relevant-only --format csv > fines.csv
    """
    from monitor.store.reader import open_reader
    from monitor.store.search import count_matches, search as run_search

    database = open_reader(database_path(ctx, db))
    try:
        flt = build_filter(database, since=since, until=until, topics=topics, platforms=platforms, laws=laws,
                           sources=sources, media=media, relevant_only=relevant_only)
        if count_only:
            click.echo(count_matches(database, query, flt))
            return
        bold = fmt == "table" and sys.stdout.isatty()
        mark = ("\x1b[1m", "\x1b[0m") if bold else ("[", "]")
        result = run_search(database, query, flt, limit=limit, order=sort, mark=mark)  # type: ignore[arg-type]
    finally:
        database.conn.close()
    hits = result.hits
    if result.ranked_within and fmt != "table":
        click.echo(f"note: ordered among the {result.ranked_within:,} most recently collected matches;"
                   " narrow the query or use --since / --until to look further back", err=True)
    if fmt == "table":
        print_hits(hits, query, sort, limit, bold, result.ranked_within)
    elif fmt == "json":
        from monitor.output import write_json

        write_json((hit.as_dict() for hit in hits), sys.stdout)
    else:
        from monitor.output import write_csv

        columns = ["published_at", "source", "media", "title", "url", "relevant", "rank", "topics", "platforms",
                   "legislation", "organisations", "snippet", "id"]
        write_csv((hit.as_dict() for hit in hits), columns, sys.stdout)


def print_hits(hits: list[Any], query: str, sort: str, limit: int, bold: bool, window: int | None) -> None:
    """A readable block per hit: date, source, verdict and tags; title; snippet; link."""
    from monitor.output import shorten, terminal_safe, terminal_width

    if not hits:
        click.echo(f"No items match {query!r}.")
        return
    order = "best match first" if sort == "rank" else "newest first"
    more = f" (the first {limit}; --limit for more)" if len(hits) == limit else ""
    click.echo(f"{len(hits)} {'item matches' if len(hits) == 1 else 'items match'} {query!r}, {order}{more}:")
    if window:
        click.echo(f"(ordered among the {window:,} most recently collected matches; narrow the query or"
                   " use --since / --until to look further back)")
    width = terminal_width()
    for number, hit in enumerate(hits, 1):
        verdict = {True: "relevant", False: "not relevant", None: "untagged"}[hit.relevant]
        tags = ", ".join(hit.topics + hit.platforms + hit.legislation)
        head = f"{hit.published_at[:10]}  {terminal_safe(hit.source)} ({hit.media})  {verdict}"
        click.echo("")
        click.echo(f"{number:>3}. {head}" + (f"  [{tags}]" if tags else ""))
        click.echo("     " + shorten(terminal_safe(hit.title), width - 5))
        snippet = _restore_marks(hit.snippet) if bold else terminal_safe(hit.snippet)
        click.echo("     " + snippet)
        if hit.url:
            click.echo("     " + terminal_safe(hit.url))


def _restore_marks(snippet: str) -> str:
    """Make a snippet terminal-safe while keeping our own bold on / off sequences.

    Everything between the marks loses its control characters, so the only escape
    sequences that can reach the terminal are bold on and bold off.
    """
    from monitor.output import terminal_safe

    on, off = "\x1b[1m", "\x1b[0m"
    parts = []
    for piece in snippet.split(on):
        parts.append(off.join(terminal_safe(bit, strip=False) for bit in piece.split(off)))
    return on.join(parts).strip()


@main.command()
@filter_options
@click.option("--match", metavar="QUERY", help="Only items matching this full-text query (as in monitor search).")
@click.option("--text", "with_text", is_flag=True, help="Include each item's full text (long).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), default=None,
              help="Default: from the --out file's extension, else csv.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (replaced only once complete). Default: standard output.")
@db_option
@pass_context
@handle_errors
def export(ctx: Context, since: str | None, until: str | None, topics: tuple[str, ...], platforms: tuple[str, ...],
           laws: tuple[str, ...], sources: tuple[str, ...], media: tuple[str, ...], relevant_only: bool,
           match: str | None, with_text: bool, fmt: str | None, out: Path | None, db: Path | None) -> None:
    """Export items with their tags, oldest first, for spreadsheets and programs.

    One row per item: when, source and every outlet that carried it, title, link,
    the tagger's verdict and score, topics, platforms, legislation, organisations,
    quoted figures, cluster and engagement (lists are "a; b" in CSV, arrays in
    JSON). A CSV written with --out starts with a byte-order mark so Excel reads
    accents right; cells a spreadsheet would run as formulas are prefixed with '.
    Items deleted upstream are never exported. Examples:

    \b
      monitor export --since 2025-01-01 --relevant-only --out relevant-2025.csv
      monitor export --platform snapchat --topic sextortion --format jsonl
    """
    from monitor.output import write_rows
    from monitor.store.export import export_columns, export_rows
    from monitor.store.reader import open_reader

    if fmt is None:
        suffix = out.suffix.lower().lstrip(".") if out else ""
        fmt = suffix if suffix in ("csv", "json", "jsonl") else "csv"
    database = open_reader(database_path(ctx, db))
    try:
        flt = build_filter(database, since=since, until=until, topics=topics, platforms=platforms, laws=laws,
                           sources=sources, media=media, relevant_only=relevant_only, match=match)
        rows = export_rows(database, flt, with_text=with_text)
        columns = export_columns(with_text)
        if out is None:
            with _quiet_broken_pipe():
                count = write_rows(fmt, rows, columns, sys.stdout)
        else:
            count = _write_file(out, lambda stream: write_rows(fmt, rows, columns, stream),
                                bom=fmt == "csv")
    finally:
        database.conn.close()
    if out is not None:
        click.echo(f"Exported {count} items to {out}", err=True)


@contextmanager
def _quiet_broken_pipe() -> Iterator[None]:
    """`monitor export | head` is normal use: stop quietly when the reader goes away."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not complain
        raise SystemExit(0) from None


def _write_file(path: Path, write: Callable[[TextIO], int], *, bom: bool) -> int:
    """Write to a temporary file beside ``path`` and move it into place when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as stream:
            count = write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True,
              help="Port on 127.0.0.1 to serve on.")
@click.option("--queries", "queries_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Folder of saved queries to offer. Default: a queries folder beside the "
              "database, else the saved queries shipped with monitor (db/queries in a checkout).")
@db_option
@pass_context
@handle_errors
def browse(ctx: Context, port: int, queries_dir: Path | None, db: Path | None) -> None:
    """Browse the database in Datasette, read-only, at http://127.0.0.1:PORT/.

    Tables and views are titled and described, items can be searched with the same
    syntax as monitor search, and the team's saved queries (db/queries/*.sql) are
    offered as canned queries with a form for their parameters. Serves only on
    127.0.0.1; stop it with Ctrl-C. Needs the browse extra:
    pip install -e '.[browse]'.
    """
    from monitor.browse import serve
    from monitor.queries import default_queries_dir, load_saved_queries
    from monitor.store.reader import open_reader

    path = database_path(ctx, db)
    open_reader(path).conn.close()  # exists, readable, migrated
    folder = queries_dir or default_queries_dir(path)
    queries = load_saved_queries(folder) if folder else []
    click.echo(f"Serving {path} read-only at http://127.0.0.1:{port}/{path.stem} "
               f"({len(queries)} saved queries); Ctrl-C to stop", err=True)
    serve(path, queries, port=port)

"""``monitor collect`` and ``monitor stats``."""

from __future__ import annotations

from typing import Any

import click

from monitor.cli._base import Context, handle_errors, main, pass_context

SERVICES = {"reddit_subreddit": "Reddit", "reddit_search": "Reddit", "hansard": "Hansard", "mastodon": "the instance",
            "bluesky": "Bluesky"}
STATUS_LABEL = {"ok": "ok", "not_modified": "not modified", "failed": "FAILED", "skipped": "skipped"}


def format_result(result: Any) -> str:
    """One line per source, e.g. ``ok            12 new   3 updated  40 seen  BBC News``."""
    label = STATUS_LABEL.get(result.status, result.status)
    if result.status == "ok":
        counts = f"{result.new:4d} new {result.updated:4d} updated {result.seen:4d} seen"
    else:
        counts = " " * 31
    line = f"{label:<13} {counts}  {result.source.name}"
    if result.error:
        line += f": {result.error}"
    return line


@main.command()
@click.option("--source", "names", multiple=True, metavar="NAME",
              help="Collect only this source (its name as in the config, or its id). Repeatable.")
@click.option("--scheduled", is_flag=True,
              help="Poll only sources whose due time has come, as the service does.")
@click.option("--force", is_flag=True,
              help="Poll even sources that are backing off after failures or were told to wait.")
@pass_context
@handle_errors
def collect(ctx: Context, names: tuple[str, ...], scheduled: bool, force: bool) -> None:
    """Run one collection cycle and print what happened to each source.

    Every configured source is fetched (concurrently, with conditional GET), parsed,
    tagged and stored in the database. Sources backing off after failures are
    skipped unless --force. One line per source: ok (new / updated / seen items),
    not modified, FAILED (with the reason) or skipped. Exit status 1 if any source
    failed, 0 otherwise.
    """
    from monitor.app import open_monitor

    with open_monitor(ctx.config) as monitor:
        click.echo(f"Collecting into {monitor.store.path}")
        report = monitor.collect(list(names) or None, scheduled=scheduled, force=force,
                                 on_result=lambda r: click.echo(format_result(r)))
        click.echo(report.summary())
        for note in report.notes:
            click.echo(note)
        total = monitor.store.count_items()
        click.echo(f"{total} items stored in {monitor.store.path}")
    if report.count("failed"):
        raise SystemExit(1)


@main.command()
@pass_context
@handle_errors
def stats(ctx: Context) -> None:
    """Print item counts per source, the last run of each, and back-off state.

    Columns: items (stored items this source carried), last run (time, status and
    new/updated/seen counts), and for failing sources the consecutive failures, the
    last error (a Reddit rate limit shows its Retry-After) and when the next attempt
    is due. Items purged because they were deleted upstream are counted, and the
    last Reddit deletion re-check is shown.
    """
    from monitor.app import open_monitor

    with open_monitor(ctx.config) as monitor:
        rows = monitor.store.source_stats()
        total = monitor.store.count_items()
        click.echo(f"{monitor.store.path}: {total} items from {len(rows)} sources")
        click.echo(f"{'items':>6}  {'last run (UTC)':<17} {'status':<13} {'new':>4} {'upd':>4} {'seen':>5}  source")
        for row in rows:
            when = (row["last_run_at"] or "never").replace("T", " ").rstrip("Z")[:16]
            status = STATUS_LABEL.get(row["last_status"] or "", row["last_status"] or "-")
            name = row["name"] + ("" if row["active"] else " (no longer configured)")
            click.echo(
                f"{row['items']:>6}  {when:<17} {status:<13} {row['last_new'] or 0:>4} "
                f"{row['last_updated'] or 0:>4} {row['last_seen'] or 0:>5}  {name}"
            )
            if row["gone_at"]:
                click.echo(f"{'':>8}gone since {row['gone_at']}: the server answered 410; fix or remove its URL")
            elif row["failures"]:
                service = SERVICES.get(row["kind"], "the server")
                what = f"rate limited by {service}" if row["last_http_status"] == 429 else (
                    f"{row['failures']} consecutive failure(s)")
                click.echo(
                    f"{'':>8}{what}, backing off until {row['next_due_at']}; "
                    f"last error: {row['state_error'] or row['last_error']}"
                )
            if row["deleted"]:
                click.echo(f"{'':>8}{row['deleted']} item(s) deleted upstream and purged (only ids kept)")
        recheck = monitor.store.last_recheck("reddit")
        if recheck is not None:
            click.echo(
                f"Last Reddit deletion re-check: {recheck.ended_at:%Y-%m-%d %H:%M} UTC, {recheck.checked} post(s)"
                f" checked, {recheck.purged} purged, {recheck.authors_cleared} author(s) cleared"
                + (f"; stopped early: {recheck.error}" if recheck.error else "")
            )
        elif any(row["kind"].startswith("reddit") for row in rows):
            click.echo("Reddit deletion re-check: never run (monitor recheck)")

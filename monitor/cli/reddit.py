"""``monitor recheck``: honour deletions made on Reddit."""

from __future__ import annotations

import click

from monitor.cli._base import Context, handle_errors, main, pass_context


@main.command()
@pass_context
@handle_errors
def recheck(ctx: Context) -> None:
    """Re-check recent Reddit posts and purge those deleted upstream.

    Asks Reddit (100 posts per request) about every stored post younger than
    [reddit] recheck_days. Posts deleted by their author or removed by moderators
    or Reddit lose their title, text, link, author hash and tags, keeping only
    their id, source and a deleted_at time, as Reddit's data terms require; posts
    whose author deleted their account lose the author hash. The service runs this
    on its own schedule. Like the service's, it gives up waiting for Reddit after
    [service] recheck_deadline_seconds (what was purged by then stays purged). Exit
    status 1 if Reddit could not be asked about every post.
    """
    from monitor.app import open_monitor

    with open_monitor(ctx.config) as monitor:
        report = monitor.recheck(deadline=ctx.config.service.recheck_deadline_seconds)
        click.echo(report.summary()[0].upper() + report.summary()[1:])
    if report.error:
        raise SystemExit(1)

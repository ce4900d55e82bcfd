"""``monitor alerts``: list alerts; ``alerts test RULE`` dry-runs a rule; ``alerts run`` checks now."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from monitor.cli._base import Context, handle_errors, main, pass_context

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime, tz: str) -> datetime:
    """``24h``, ``7d``, ``2w``, ``90m`` ago, or a date / date and time (local time in ``tz``)."""
    text = value.strip().lower()
    match = _DURATION.fullmatch(text)
    if match:
        return now - timedelta(**{_UNITS[match[2]]: float(match[1])})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a duration (24h, 7d) or a date (YYYY-MM-DD[THH:MM])") from None
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(timezone.utc)


def _local(moment: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return "-"
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def status_text(record: Any, tz: str, held_until: datetime | None) -> str:
    if record.status == "sent":
        return f"sent {_local(record.sent_at, tz, '%H:%M')}"
    if record.status == "sending":
        return "sending"
    if held_until is not None:
        return f"held to {_local(held_until, tz, '%H:%M')}"
    return "PENDING" if record.attempts else "pending"


@main.group(invoke_without_command=True)
@click.option("--since", metavar="WHEN", default="7d", show_default=True,
              help="List alerts recorded since then: a duration ago (24h, 7d, 2w) or a local date/time "
                   "(2026-11-28 or 2026-11-28T07:30).")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="At most this many alerts.")
@click.pass_context
@handle_errors
def alerts(click_ctx: click.Context, since: str, limit: int) -> None:
    """List recorded alerts, newest first (the default), or test and run them.

    Alerts are sent between digests when [alerts] is configured: a story matching a
    priority rule ([[alerts.rules]]), a spike of relevant items in a topic or a
    platform and topic against its usual level, or a source failing or gone
    silent (and back to normal). Each line shows when it was recorded, its kind,
    channel, delivery status (sent, pending, PENDING after a failed attempt, or held
    for quiet hours) and what it said; failed deliveries show their last error.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.find_object(Context)
    assert ctx is not None  # set by the main group
    from monitor.alerts.quiet import quiet_until
    from monitor.app import open_monitor

    config = ctx.config
    tz = config.digest.timezone
    with open_monitor(config) as monitor:
        now = monitor.clock()
        start = parse_since(since, now, tz)
        records = monitor.alerts(start, limit)
    held = quiet_until(now, config.alerts.quiet_hours, tz) if config.alerts is not None else None
    if config.alerts is None:
        click.echo("Alerts are off: there is no [alerts] table in the configuration.")
    click.echo(f"{len(records)} alert{'s' if len(records) != 1 else ''} since {_local(start, tz)} ({tz}),"
               " newest first")
    for record in records:
        items = f" [{len(record.items)} stor{'ies' if len(record.items) != 1 else 'y'}]" if record.items else ""
        click.echo(f"{_local(record.created_at, tz)}  {record.kind:<6}  {record.channel:<7}  "
                   f"{status_text(record, tz, held):<14}  {record.title}{items}")
        if record.status != "sent" and record.last_error:
            click.echo(f"{'':>18}{record.attempts} attempt(s); last error: {record.last_error}")


@alerts.command("test")
@click.argument("rule")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=7.0, show_default=True,
              help="Look at items published in this many days before now.")
@pass_context
@handle_errors
def alerts_test(ctx: Context, rule: str, days: float) -> None:
    """Dry-run one alert rule over recent items and print what it would have sent.

    RULE is the name of an [[alerts.rules]] entry. Every item published in the last
    --days days is checked against it, one alert per story (syndicated copies
    together), and the text of each alert is printed, marked "(alerted)" when an
    alert was in fact recorded for that story. Nothing is recorded or sent: tune the
    rule until it is rare and right, then let the service use it.
    """
    from monitor.app import open_monitor

    config = ctx.config
    tz = config.digest.timezone
    with open_monitor(config) as monitor:
        result = monitor.test_alert_rule(rule, days)
    r = result.rule
    count = len(result.alerts)
    click.echo(f'Rule "{r.name}" ({result.description}), by {r.channel}, over {days:g} day(s):'
               f" {_local(result.since, tz)} to {_local(result.until, tz)} ({tz})")
    click.echo(f"{result.items_checked} item(s) checked; {count} alert{'s' if count != 1 else ''}"
               " would have been sent.")
    if result.note:
        click.echo(f"Note: {result.note}")
    for number, alert in enumerate(result.alerts, 1):
        click.echo("")
        click.echo(f"--- {number} of {count}{' (alerted)' if alert.already_alerted else ''} ---")
        click.echo(f"Subject: {alert.subject}")
        click.echo(alert.text.rstrip())


@alerts.command("run")
@pass_context
@handle_errors
def alerts_run(ctx: Context) -> None:
    """Check alerts now and send what is due, without collecting.

    Runs the same check as the end of every collection cycle: rules against items
    stored since the last check, spikes, source health; then sends every pending
    alert (unless quiet hours hold them). Prints one line of what happened; exit
    status 1 if a delivery failed (the alerts stay pending and are retried).
    """
    from monitor.app import open_monitor

    with open_monitor(ctx.config) as monitor:
        report = monitor.run_alerts()
    click.echo(report.summary())
    for alert in report.created:
        click.echo(f"  new {alert.kind} alert ({alert.channel}): {alert.title}")
    if report.delivery.failures:
        raise SystemExit(1)

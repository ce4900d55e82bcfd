"""``monitor run``, ``monitor doctor``, ``monitor maintain`` and ``monitor backup``."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from monitor.cli._base import Context, configure_logging, handle_errors, main, pass_context

# syslog priorities, as journald reads them from a "<N>" prefix on each line
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class JournalFormatter(logging.Formatter):
    """``<3>monitor.collect: BBC News: HTTP 503 ...``: journald takes the priority from the
    prefix (so ``journalctl -p warning`` works) and adds the time itself."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        text = super().format(record)
        return "\n".join(f"<{priority}>{line}" for line in text.splitlines())


def logs_go_to_journal() -> bool:
    """True when stderr is connected to journald (systemd sets ``JOURNAL_STREAM`` to its device:inode)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in stream.split(":"))
        stat = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


def configure_service_logging(verbose: int) -> None:
    """The service logs progress (INFO) by default: one line per polled source per cycle."""
    configure_logging(max(verbose, 1))
    handler = logging.getLogger().handlers[0]
    if logs_go_to_journal():
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                               "%Y-%m-%d %H:%M:%S"))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every job start and end at INFO
    # A run skipped while the previous one is still going is expected (coalescing); the
    # service counts those and logs them once, at INFO, itself.
    logging.getLogger("apscheduler.scheduler").addFilter(
        lambda record: "maximum number of running instances" not in record.getMessage())


@main.command()
@pass_context
@handle_errors
def run(ctx: Context) -> None:
    """Run the service: collect on schedule and look after the database, until stopped.

    Polls each source when it is due (due times are kept in the database, so a
    restart neither re-polls everything nor loses its place), re-checks Reddit for
    deletions, sends the daily digest, delivers alerts held for quiet hours or whose
    delivery failed ([alerts] check_minutes), runs the daily maintenance (integrity
    check, optimise, backup, retention), and logs one line per polled source. Under systemd (Type=notify) it reports readiness, feeds the
    watchdog while it makes progress, and shows the last cycle in `systemctl
    status`. SIGTERM or Ctrl-C stops it within 10 seconds, with exit status 0.
    """
    configure_service_logging(ctx.verbose)
    from monitor.service import Service

    config = ctx.config
    service = Service(config)
    clean = service.run_forever()
    if not clean:  # a job is stuck in a call we cannot interrupt; its transaction is rolled back
        logging.shutdown()
        os._exit(0)


@main.command()
@click.option("--network", is_flag=True, help="Also fetch and parse each source once (stores nothing).")
@pass_context
def doctor(ctx: Context, network: bool) -> None:
    """Check the installation and say what to fix, one line per check.

    Checks that the config is valid, the credentials it names are present (their
    values are never shown), there is free disk, the database opens, is migrated and
    passes an integrity check, the service has run recently, maintenance and backups
    are current, and how each source last went (last success, failures, back-off).
    With --network, also fetches each source once. Writes nothing. Exit status 1 if
    any check FAILed.
    """
    from monitor.doctor import run_checks

    failed = 0
    for check in run_checks(ctx.config_path, network=network):
        click.echo(check.line())
        failed += check.status == "fail"
    if failed:
        click.echo(f"{failed} problem(s) found.")
        raise SystemExit(1)
    click.echo("No problems found.")


@main.command()
@pass_context
@handle_errors
def maintain(ctx: Context) -> None:
    """Run the daily database maintenance now.

    Checks integrity (PRAGMA integrity_check), refreshes the query planner's
    statistics, writes a backup to [service] backup_dir (keeping the newest
    backup_keep), and deletes Reddit content and run records older than the
    configured retention. The service does this daily by itself; exit status 1 if a
    step failed.
    """
    from monitor.app import maintenance_summary, open_monitor

    with open_monitor(ctx.config) as monitor:
        result = monitor.maintain()
    click.echo(maintenance_summary(result))
    if result.status != "ok":
        click.echo(f"error: {result.error}", err=True)
        raise SystemExit(1)


@main.command()
@click.argument("target", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_context
@handle_errors
def backup(ctx: Context, target: Path | None) -> None:
    """Write a consistent copy of the database, safe while the service runs.

    Without TARGET the copy goes to [service] backup_dir with a dated name
    (monitor-YYYYMMDDTHHMMSSZ.db), where the daily maintenance rotates it. To
    restore, stop the service and copy a backup over the database file (removing
    its -wal and -shm files).
    """
    from monitor.app import open_monitor

    with open_monitor(ctx.config) as monitor:
        path, size = monitor.backup(target)
    click.echo(f"Backed up {monitor.store.path} to {path} ({size / 1e6:.1f} MB)")

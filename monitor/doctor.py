"""``monitor doctor``: one line per check, each either OK or what to do.

Checks return :class:`Check` values and print nothing; the CLI prints them. Nothing
here writes: the database is opened read-only and never created or migrated (an
operator may run this while the service runs, as another user). Secrets are only
ever reported as present or missing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterator, Literal

from monitor.config import Config, load_config, read_secret
from monitor.errors import ConfigError, MonitorError
from monitor.types import from_iso

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One finding: ``area`` (config, database, source ...), its status, and one line of text
    that says what is fine or what to do."""

    area: str
    status: Status
    message: str

    @property
    def label(self) -> str:
        return {"ok": "OK", "warn": "WARN", "fail": "FAIL"}[self.status]

    def line(self) -> str:
        return f"{self.label:<5} {self.area}: {self.message}"


def ago(moment: datetime | None, now: datetime) -> str:
    """``5 min ago``, ``3 h ago``, ``2 days ago``; ``never`` for None; ``in 4 min`` for the future."""
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 90:
        text = f"{seconds:.0f} s"
    elif seconds < 90 * 60:
        text = f"{seconds / 60:.0f} min"
    elif seconds < 48 * 3600:
        text = f"{seconds / 3600:.0f} h"
    else:
        text = f"{seconds / 86400:.0f} days"
    return f"in {text}" if future else f"{text} ago"


# --- config ---------------------------------------------------------------------------------


def check_config(path: Path) -> tuple[list[Check], Config | None]:
    """The config file loads and validates; every problem is its own line."""
    try:
        config = load_config(path)
    except ConfigError as error:
        return [Check("config", "fail", problem) for problem in error.problems], None
    sources = len(config.feeds) + len(config.queries)
    status: Status = "ok" if sources else "warn"
    message = f"{path} is valid ({len(config.feeds)} feeds, {len(config.queries)} queries)"
    if not sources:
        message += "; no sources configured: add [[feeds]] or [[queries]]"
    return [Check("config", status, message)], config


def secret_names(section: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, environment name) of every ``*_env`` key in the config, leaving out
    sections that say they are not in use (``enabled`` false, as ``[reddit]`` without sources)."""
    if dataclasses.is_dataclass(section):
        if getattr(section, "enabled", True) is False:
            return
        for f in dataclasses.fields(section):
            if f.metadata.get("internal"):
                continue
            value = getattr(section, f.name)
            key = f"{prefix}.{f.name}" if prefix else f.name
            if f.name.endswith("_env") and isinstance(value, str) and value:
                yield key, value
            else:
                yield from secret_names(value, key)
    elif isinstance(section, tuple):
        for index, value in enumerate(section):
            yield from secret_names(value, f"{prefix}[{index}]")


CREDENTIAL_STORE = Path("/etc/monitor/credentials")  # where the unit's LoadCredential= reads them


def needed_secrets(config: Config) -> list[tuple[str, str]]:
    """(dotted key, secret name) of the secrets this configuration uses: Reddit's only with
    Reddit sources, the SMTP password only when digests are mailed with a login, the
    webhook URL only when an alert goes to the webhook."""
    found = []
    for key, name in secret_names(config):
        if key.startswith("email."):
            email = config.email
            if not (email.sender and email.recipients and email.username):
                continue
        if key == "alerts.webhook_url_env" and not uses_webhook(config):
            continue
        found.append((key, name))
    return found


def uses_webhook(config: Config) -> bool:
    """Whether any alert goes to the chat webhook (then its URL is a secret in use)."""
    alerts = config.alerts
    return alerts is not None and (alerts.channel == "webhook" or any(r.channel == "webhook" for r in alerts.rules))


def check_credentials(config: Config, store: Path = CREDENTIAL_STORE) -> list[Check]:
    """Each secret the config uses is present: as a systemd credential or in the environment
    (as the service sees it), or in the unit's credential store (as root sees it from a shell).
    Values are never shown."""
    found = needed_secrets(config)
    if not found:
        return [Check("credentials", "ok", "none needed by this configuration")]
    checks = []
    for key, name in found:
        stored = store / name
        if read_secret(name) is not None:
            checks.append(Check("credentials", "ok", f"{name} (for {key}) is present"))
        elif _non_empty(stored):
            checks.append(Check("credentials", "ok", f"{name} (for {key}) is present in {store}"))
        else:
            checks.append(Check("credentials", "fail",
                                f"{name} (for {key}) is not set: put it in {stored} "
                                f"(LoadCredential= in the unit) or in the environment"))
    return checks


def _non_empty(path: Path) -> bool:
    try:
        return bool(path.read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return False


# --- database -------------------------------------------------------------------------------


def open_readonly(path: Path) -> Any:
    from monitor.store.db import connect

    return connect(path, readonly=True)


def check_database(config: Config) -> tuple[list[Check], Any]:
    """The database exists, opens, is migrated and passes ``PRAGMA integrity_check``."""
    from monitor.store import maintenance
    from monitor.store.db import pending_migrations
    from monitor.store.schema import migrations

    path = Path(config.storage.path)
    if not path.exists():
        return [Check("database", "fail", f"no database at {path} yet: start the service "
                                          f"(systemctl start monitor) or run `monitor collect`")], None
    try:
        db = open_readonly(path)
        pending = pending_migrations(db)
        applied = {row[0] for row in db.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [migrations.name])} \
            if db["_sqlite_migrations"].exists() else set()
    except (MonitorError, sqlite3.Error) as error:
        return [Check("database", "fail", f"cannot read {path}: {error}; check its permissions and that "
                                          "it is a monitor database")], None
    checks = []
    from sqlite_utils import Database

    known = {m.name for m in migrations.pending(Database(memory=True))}
    unknown = applied - known
    if unknown:
        checks.append(Check("database", "fail", f"{path} was migrated by a newer monitor "
                                                f"({', '.join(sorted(unknown))}): upgrade this installation"))
    elif pending:
        checks.append(Check("database", "warn",
                            f"{path} lacks {len(pending)} migration(s) ({', '.join(pending)}): they are applied "
                            "when the service restarts (systemctl restart monitor) or by `monitor collect`"))
    else:
        items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        checks.append(Check("database", "ok", f"{path} opens and is migrated ({items} items)"))
    try:
        problems = maintenance.integrity_problems(db)
    except sqlite3.Error as error:
        problems = [str(error)]
    if problems:
        checks.append(Check("integrity", "fail", f"{'; '.join(problems[:3])}: stop the service and restore "
                                                 "the newest backup (see README, Backups)"))
    else:
        checks.append(Check("integrity", "ok", "PRAGMA integrity_check: ok"))
    return checks, db


def backup_folder(config: Config) -> Path:
    return Path(config.service.backup_dir) if config.service.backup_dir else \
        Path(config.storage.path).parent / "backups"


def check_disk(config: Config) -> list[Check]:
    """Enough free disk where the database (and its backups) live."""
    folder = Path(config.storage.path).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    size = Path(config.storage.path).stat().st_size if Path(config.storage.path).exists() else 0
    minimum = config.service.min_free_disk_mb * 1_000_000
    text = f"{free / 1e9:.1f} GB free in {folder}"
    if free < minimum:
        return [Check("disk", "fail", f"only {text} (less than [service] min_free_disk_mb = "
                                      f"{config.service.min_free_disk_mb}): free some space")]
    if free < size * 2:
        return [Check("disk", "warn", f"only {text}, less than twice the database's {size / 1e6:.0f} MB: "
                                      "backups will soon fail; free some space")]
    return [Check("disk", "ok", text)]


# --- what the service has been doing --------------------------------------------------------


def check_sources(config: Config, db: Any, now: datetime) -> list[Check]:
    """Each configured source: last success, and any failures or back-off."""
    from monitor.sources import sources_from_config

    states = {row[0]: row for row in db.execute(
        "SELECT source_id, failures, next_due_at, last_success_at, last_error, gone_at, last_attempt_at"
        " FROM fetch_state").fetchall()}
    checks = []
    for source in sources_from_config(config):
        row = states.get(source.id)
        area = f"source {source.name}"
        if row is None or row[6] is None:
            checks.append(Check(area, "warn", "not polled yet: the service polls it at its next check"))
            continue
        _id, failures, next_due, last_success, last_error, gone_at, _attempt = row
        success = ago(from_iso(last_success), now)
        if gone_at:
            checks.append(Check(area, "fail", f"gone (HTTP 410 since {gone_at[:16].replace('T', ' ')}): "
                                              "fix or remove its URL in the config"))
        elif failures:
            checks.append(Check(area, "fail" if failures >= 3 else "warn",
                                f"{failures} failure(s) in a row, last: {last_error}; last success {success}; "
                                f"backing off, next try {ago(from_iso(next_due), now)}. Check the URL, or run "
                                f"`monitor doctor --network`"))
        else:
            checks.append(Check(area, "ok", f"last success {success}, next poll {ago(from_iso(next_due), now)}"))
    return checks


def check_recheck(config: Config, db: Any, now: datetime) -> Check:
    """Reddit posts deleted upstream must be purged here: is the re-check running?"""
    from monitor.store.state import last_recheck

    last = last_recheck(db, "reddit")
    hours = config.service.recheck_hours
    if last is None:
        return Check("reddit re-check", "warn", f"never run: the service runs it every {hours:g} h; "
                                                "`monitor recheck` runs it now")
    when = ago(last.started_at, now)
    if last.error:
        return Check("reddit re-check", "fail", f"last run {when} stopped early: {last.error}")
    if now - last.started_at > timedelta(hours=2 * hours + 1):
        return Check("reddit re-check", "warn", f"last run {when}, more than twice {hours:g} h ago: is the "
                                                "service running?")
    return Check("reddit re-check", "ok", f"last run {when}: {last.checked} checked, {last.purged} purged")


def check_digest(config: Config, db: Any, now: datetime) -> Check:
    """Whether the daily digest goes out: configured, the last one sent, no failed send."""
    from monitor.digest import due_digest_date
    from monitor.store import digest as digest_sql

    email = config.email
    if not (email.sender and email.recipients):
        return Check("digest", "warn", "not emailed: set [email] sender and recipients (`monitor digest` "
                                       "still builds it)")
    latest = digest_sql.records(db, limit=1)
    last_sent = digest_sql.last_sent_date(db)
    due = due_digest_date(now, config.digest, date.fromisoformat(last_sent) if last_sent else None,
                          config.digest.catch_up_hours)
    if latest and latest[0].send_error and latest[0].status != "sent":
        return Check("digest", "fail", f"the digest for {latest[0].date} was not sent: {latest[0].send_error}; "
                                       "check [email] and the SMTP server, then `monitor digest --send`")
    if due is not None:
        return Check("digest", "warn", f"the digest for {due} is due and not sent yet: is the service running?")
    if last_sent is None:
        return Check("digest", "warn", f"none sent yet: the service sends it daily at {config.digest.time} "
                                       f"{config.digest.timezone}")
    record = digest_sql.get_record(db, last_sent)
    sent_at = from_iso(record.sent_at) if record else None
    return Check("digest", "ok", f"the digest for {last_sent} was sent {ago(sent_at, now)} to "
                                 f"{len(record.recipients) if record else 0} recipient(s)")


def check_alerts(config: Config, db: Any, now: datetime) -> Check:
    """Whether alerts go out: none left undelivered after a failed attempt, email configured."""
    from monitor.store import alerts as alerts_sql

    alerts = config.alerts
    assert alerts is not None
    unsent = alerts_sql.unsent(db)
    failed = [a for a in unsent if a.attempts and a.last_error]
    if failed:
        oldest = min(a.created_at for a in failed)
        return Check("alerts", "fail", f"{len(failed)} alert(s) not delivered yet (the oldest recorded "
                                       f"{ago(oldest, now)}): {failed[-1].channel}: {failed[-1].last_error}; "
                                       "they are retried every cycle")
    email = config.email
    by_email = alerts.channel == "email" or any(r.channel == "email" for r in alerts.rules)
    if by_email and not (email.sender and email.recipients):
        return Check("alerts", "warn", "alerts by email need [email] sender and recipients")
    recent = alerts_sql.listing(db, now - timedelta(days=7), 1000)
    sent = [a.sent_at for a in recent if a.sent_at is not None]
    text = f"{len(alerts.rules)} rule(s); {len(recent)} alert(s) in the last 7 days"
    if sent:
        text += f", the last sent {ago(max(sent), now)}"
    if unsent:
        text += f"; {len(unsent)} waiting (quiet hours, or the next cycle)"
    return Check("alerts", "ok", text)


def check_service(config: Config, db: Any, now: datetime) -> list[Check]:
    """Whether ``monitor run`` is alive (its collection job ran recently), and maintenance."""
    from monitor.store import maintenance
    from monitor.store.jobs import job_records

    cfg = config.service
    checks = []
    records = job_records(db) if db["service_jobs"].exists() else {}
    polls = [records[job] for job in ("collect", "reddit") if job in records and records[job]["last_ended_at"]]
    if not polls:
        checks.append(Check("service", "warn", "has never run here: install and start it "
                                               "(README, Running as a service)"))
    else:
        ended = max(from_iso(job["last_ended_at"]) or now for job in polls)
        # A collection check may wait behind a cycle or a re-check that runs to its deadline.
        longest = max(cfg.cycle_deadline_seconds, cfg.recheck_deadline_seconds)
        limit = timedelta(seconds=max(3 * cfg.tick_seconds, cfg.tick_seconds + longest + 60))
        errors = sum(job["errors"] for job in records.values())
        missed = sum(job["missed"] for job in records.values())
        failing = sorted(job["job"] for job in records.values() if job["last_status"] == "failed")
        if now - ended > limit:
            checks.append(Check("service", "fail", f"its last collection check ended {ago(ended, now)}: is it "
                                                   "running? See `systemctl status monitor` and "
                                                   "`journalctl -u monitor -e`"))
        else:
            text = (f"last collection check {ago(ended, now)} (pid {polls[0]['pid']}); {errors} job errors and "
                    f"{missed} missed runs since it started")
            if failing:
                text += f"; last run failed: {', '.join(failing)}; see `journalctl -u monitor -p err`"
            checks.append(Check("service", "warn" if failing else "ok", text))
    if config.reddit.enabled and db["rechecks"].exists():
        checks.append(check_recheck(config, db, now))
    if db["digests"].exists():
        checks.append(check_digest(config, db, now))
    if config.alerts is not None and db["alerts"].exists():
        checks.append(check_alerts(config, db, now))
    last = maintenance.last_maintenance(db) if db["maintenance_runs"].exists() else None
    if last is None:
        checks.append(Check("maintenance", "warn", f"never run: the service runs it daily at "
                                                   f"{cfg.maintenance_time} {cfg.timezone}; `monitor maintain` "
                                                   "runs it now"))
    elif last["status"] != "ok":
        checks.append(Check("maintenance", "fail", f"last run {ago(from_iso(last['started_at']), now)} failed: "
                                                   f"{last['error']}"))
    elif now - (from_iso(last["started_at"]) or now) > timedelta(hours=48):
        checks.append(Check("maintenance", "warn", f"last run {ago(from_iso(last['started_at']), now)}: is the "
                                                   "service running?"))
    else:
        checks.append(Check("maintenance", "ok", f"last run {ago(from_iso(last['started_at']), now)}, ok"))
    if cfg.backup_keep:
        folder = backup_folder(config)
        found = maintenance.backups(folder)
        if not found:
            checks.append(Check("backups", "warn", f"none in {folder} yet: `monitor backup` makes one now"))
        else:
            newest = found[-1]
            taken = datetime.fromtimestamp(newest.stat().st_mtime).astimezone()
            age = ago(taken, now)
            status: Status = "warn" if now - taken > timedelta(hours=48) else "ok"
            checks.append(Check("backups", status, f"{len(found)} in {folder}, newest {newest.name} "
                                                   f"({newest.stat().st_size / 1e6:.1f} MB, {age})"))
    return checks


# --- network --------------------------------------------------------------------------------


def stored_secret(name: str, store: Path = CREDENTIAL_STORE) -> str | None:
    """A secret as the service would see it, else from the unit's credential store (root's view)."""
    value = read_secret(name)
    if value is None and _non_empty(store / name):
        value = (store / name).read_text(encoding="utf-8").strip()
    return value


def check_network(config: Config, now: datetime) -> list[Check]:
    """Fetch and parse each source once, storing nothing; one line per source."""
    from monitor.app import probe_collectors
    from monitor.sources import sources_from_config
    from monitor.sources.http import HttpClient

    found, unavailable = probe_collectors(config, stored_secret)
    collectors = {kind: c for c in found for kind in c.kinds}
    sources = sources_from_config(config)

    async def probe(source: Any, client: HttpClient) -> Check:
        from monitor.errors import CollectorError
        from monitor.types import FetchState

        area = f"network {source.name}"
        if source.kind in unavailable:
            return Check(area, "fail", unavailable[source.kind])
        collector = collectors.get(source.kind)
        if collector is None:
            return Check(area, "warn", f"no collector for sources of kind {source.kind!r}")
        started = time.monotonic()
        try:
            async with asyncio.timeout(max(config.http.timeout * 2, 30)):
                fetched = await collector.fetch(source, FetchState(source.id), client)
            parsed = collector.parse(source, fetched, now)
        except TimeoutError:
            return Check(area, "fail", "no answer in time: is the site up, and is the network reachable?")
        except CollectorError as error:
            return Check(area, "fail", f"{error}: check the URL in a browser, or fix it in the config")
        return Check(area, "ok", f"{len(parsed.items)} items in {time.monotonic() - started:.1f} s")

    async def probe_all() -> list[Check]:
        async with HttpClient(config.http) as client:
            return list(await asyncio.gather(*(probe(source, client) for source in sources)))

    try:
        return asyncio.run(probe_all())
    finally:
        for collector in found:
            close = getattr(collector, "close", None)
            if close is not None:
                close()


def run_checks(config_path: Path, *, network: bool = False, now: datetime | None = None) -> Iterator[Check]:
    """Every check in order; later checks are skipped when what they need is broken."""
    from monitor.types import utcnow

    now = now or utcnow()
    checks, config = check_config(config_path)
    yield from checks
    if config is None:
        return
    yield from check_credentials(config)
    yield from check_disk(config)
    checks, db = check_database(config)
    yield from checks
    if db is not None:
        try:
            if db["fetch_state"].exists():
                yield from check_service(config, db, now)
                yield from check_sources(config, db, now)
        finally:
            db.conn.close()
    if network:
        yield from check_network(config, now)

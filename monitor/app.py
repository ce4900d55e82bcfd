"""Wires configuration, store, collectors and tagger together, once (like reader's
``make_reader``). The CLI and the service call these functions and nothing lower.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from monitor.collect import Collection, CycleReport, SourceResult
from monitor.config import Config
from monitor.errors import MonitorError, StorageError
from monitor.sources import sources_from_config
from monitor.sources.base import Collector
from monitor.store import Store, open_store
from monitor.types import Source, from_iso, utcnow

if TYPE_CHECKING:
    from monitor.store.maintenance import MaintenanceRun

log = logging.getLogger(__name__)


class Monitor:
    """The application: one config, one store, the configured sources."""

    def __init__(self, config: Config, store: Store, *, clock: Callable[[], datetime] = utcnow):
        self.config = config
        self.store = store
        self.clock = clock
        self.sources: list[Source] = sources_from_config(config)
        store.sync_sources(self.sources, clock())

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def collectors(self) -> list[Collector]:
        return collectors_for(self.config)

    def find_sources(self, names: list[str]) -> list[Source]:
        """Sources by name or id (case-insensitive); unknown names are an error."""
        wanted = {name.casefold(): name for name in names}
        found = [s for s in self.sources if s.name.casefold() in wanted or s.id.casefold() in wanted]
        matched = {s.name.casefold() for s in found} | {s.id.casefold() for s in found}
        missing = [original for key, original in wanted.items() if key not in matched]
        if missing:
            known = ", ".join(s.name for s in self.sources) or "none configured"
            raise MonitorError(f"no source named {', '.join(map(repr, missing))} (sources: {known})")
        return found

    def collect(
        self,
        names: list[str] | None = None,
        *,
        scheduled: bool = False,
        force: bool = False,
        on_result: Callable[[SourceResult], None] | None = None,
        stop: threading.Event | None = None,
        cycle_deadline: float | None = None,
    ) -> CycleReport:
        """Run one collection cycle over all sources, or those named.

        The service passes ``scheduled=True`` (only sources whose due time has come), a
        ``cycle_deadline`` in seconds and a ``stop`` event (see :meth:`Collection.run`).
        """
        sources = self.find_sources(names) if names else self.sources
        collection = Collection(self.config, self.store, self.collectors(), clock=self.clock)
        return collection.run(sources, scheduled=scheduled, force=force, on_result=on_result, stop=stop,
                              cycle_deadline=cycle_deadline)

    # --- looking after the database -------------------------------------------------------

    @property
    def backup_dir(self) -> Path:
        """``[service] backup_dir``, by default a ``backups`` folder next to the database."""
        configured = self.config.service.backup_dir
        return Path(configured) if configured else self.store.path.parent / "backups"

    def backup(self, target: str | Path | None = None) -> tuple[Path, int]:
        """Back up the live database (consistent, compacted) to ``target`` or a dated file in
        :attr:`backup_dir`; returns the path and its size. Refuses when the disk is too full."""
        from monitor.store import maintenance

        path = Path(target) if target else self.backup_dir / maintenance.backup_name(self.clock())
        if path.exists():
            raise MonitorError(f"{path} already exists; choose another name")
        existing = path.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        needed = database_bytes(self.store) * 1.1
        free = shutil.disk_usage(existing).free
        if free < needed:
            raise StorageError(f"not enough free disk for a backup in {path.parent}: {free / 1e6:.0f} MB free, "
                               f"about {needed / 1e6:.0f} MB needed; free some space or set [service] backup_dir")
        return path, maintenance.backup(self.store.db, path)

    def maintenance_due(self) -> bool:
        """True when the daily maintenance has not run since its latest scheduled time."""
        from monitor.schedule import daily_due
        from monitor.store.maintenance import last_maintenance

        last = last_maintenance(self.store.db)
        cfg = self.config.service
        return daily_due(self.clock(), from_iso(last["started_at"]) if last else None, cfg.maintenance_time,
                         cfg.timezone)

    def maintain(self, *, stop: threading.Event | None = None) -> "MaintenanceRun":
        """The daily maintenance: integrity check, retention of old Reddit content and run
        records, ``PRAGMA optimize``, then a backup (rotating old ones). Recorded in
        ``maintenance_runs``; a failing step is logged and the others still run, except
        that a database failing its integrity check is left alone (not pruned, and not
        backed up over good backups). Interrupted by ``stop``, it is not recorded, so it
        runs again at the next start.
        """
        from monitor.store import maintenance as m

        cfg = self.config.service
        db = self.store.db
        run = m.MaintenanceRun(started_at=self.clock())
        errors: list[str] = []

        def stopped() -> bool:
            return stop is not None and stop.is_set()

        try:
            problems = m.integrity_problems(db)
            run.integrity = "ok" if not problems else "; ".join(problems)
        except sqlite3.Error as error:
            problems = [f"integrity check could not run: {error}"]
            run.integrity = problems[0]
        if problems:
            errors.append(f"integrity check failed ({run.integrity}); stop the service and restore the newest "
                          f"backup from {self.backup_dir}")
        try:
            now = self.clock()
            if cfg.reddit_retention_days and not stopped() and not problems:
                run.pruned_reddit = m.prune_items(db, "reddit", now - timedelta(days=cfg.reddit_retention_days))
            if cfg.runs_retention_days and not stopped() and not problems:
                run.pruned_runs = m.prune_runs(db, now - timedelta(days=cfg.runs_retention_days))
        except sqlite3.Error as error:
            errors.append(f"retention failed: {error}")
        if not stopped() and not problems:
            try:
                m.optimize(db)
            except sqlite3.Error as error:
                errors.append(f"PRAGMA optimize failed: {error}")
        if cfg.backup_keep and not problems and not stopped():
            try:
                path, size = self.backup()
                run.backup_path, run.backup_bytes = str(path), size
                m.rotate_backups(path.parent, cfg.backup_keep)
            except MonitorError as error:
                errors.append(str(error))
        if stopped():  # not recorded, so it runs again, whole, at the next start
            log.info("maintenance: interrupted by the stop; it runs again at the next start")
            return run
        run.ended_at = self.clock()
        run.status = "failed" if errors else "ok"
        run.error = "; ".join(errors) or None
        try:
            m.record_maintenance(db, run)
        except sqlite3.Error as failure:  # a damaged file may refuse even this
            errors.append(f"cannot record this maintenance run: {failure}")
        for problem in errors:
            log.error("maintenance: %s", problem)
        log.info("maintenance: %s", maintenance_summary(run))
        return run


def collectors_for(config: Config) -> list[Collector]:
    """One collector per kind of source the configuration can name."""
    from monitor.sources.feeds import FeedCollector

    return [FeedCollector()]


def database_bytes(store: Store) -> int:
    """Size of the database's content (pages in use), which is about what a backup needs."""
    page_count = store.db.execute("PRAGMA page_count").fetchone()[0]
    page_size = store.db.execute("PRAGMA page_size").fetchone()[0]
    return int(page_count * page_size)


def maintenance_summary(run: "MaintenanceRun") -> str:
    """One line: ``integrity ok; backup monitor-20261128T033000Z.db (1.2 MB); 3 Reddit items ...``."""
    parts = [f"integrity {run.integrity}" if run.integrity == "ok" else "integrity FAILED"]
    if run.backup_path:
        parts.append(f"backup {Path(run.backup_path).name} ({(run.backup_bytes or 0) / 1e6:.1f} MB)")
    else:
        parts.append("no backup")
    parts.append(f"{run.pruned_reddit} old Reddit items and {run.pruned_runs} old run records deleted")
    return "; ".join(parts) + ("" if run.status == "ok" else " (with errors)")


def open_monitor(config: Config, *, clock: Callable[[], datetime] = utcnow) -> Monitor:
    """Open the configured database (migrating it) and sync the configured sources."""
    store = open_store(Path(config.storage.path))
    return Monitor(config, store, clock=clock)

"""Wires configuration, store, collectors and tagger together, once (like reader's
``make_reader``). The CLI and the service call these functions and nothing lower.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from monitor.collect import Collection, CycleReport, SourceResult
from monitor.config import Config
from monitor.errors import MonitorError
from monitor.sources import sources_from_config
from monitor.sources.base import Collector
from monitor.store import Store, open_store
from monitor.types import Source, utcnow

if TYPE_CHECKING:
    from monitor.digest.delivery import DigestResult, SendResult

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
        from monitor.sources.feeds import FeedCollector

        return [FeedCollector()]

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
    ) -> CycleReport:
        """Run one collection cycle over all sources, or those named."""
        sources = self.find_sources(names) if names else self.sources
        collection = Collection(self.config, self.store, self.collectors(), clock=self.clock)
        return collection.run(sources, scheduled=scheduled, force=force, on_result=on_result)

    # --- the daily digest ---------------------------------------------------------------

    def build_digest(self, day: date | None = None, out_dir: Path | None = None) -> "DigestResult":
        """Build, archive and record the digest for ``day`` (None: the latest complete day
        per ``[digest] time``/``timezone``). Building a date again re-renders its archive;
        ``out_dir`` also gets a copy of the files."""
        from monitor.digest.delivery import make_digest

        return make_digest(self.store, self.config, day, self.clock(), out_dir)

    def send_digest(self, day: date | None = None, *, force: bool = False) -> "SendResult":
        """Build and email the digest for ``day`` (None: the latest complete day), at most
        once per date unless ``force``; crash-safe (see ``monitor.digest.delivery``)."""
        from monitor.digest.delivery import send_digest

        return send_digest(self.store, self.config, day, self.clock(), force=force)

    def last_sent_digest(self) -> date | None:
        """The newest date whose digest was sent (for ``monitor.digest.due_digest_date``)."""
        from monitor.digest.delivery import last_sent

        return last_sent(self.store)

    def due_digest(self, grace_hours: float | None = None) -> date | None:
        """The date whose digest should be sent now, if any (catch-up after downtime
        within ``grace_hours``, default ``[digest] catch_up_hours``)."""
        from monitor.digest import due_digest_date

        hours = self.config.digest.catch_up_hours if grace_hours is None else grace_hours
        return due_digest_date(self.clock(), self.config.digest, self.last_sent_digest(), hours)


def open_monitor(config: Config, *, clock: Callable[[], datetime] = utcnow) -> Monitor:
    """Open the configured database (migrating it) and sync the configured sources."""
    store = open_store(Path(config.storage.path))
    return Monitor(config, store, clock=clock)

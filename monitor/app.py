"""Wires configuration, store, collectors and tagger together, once (like reader's
``make_reader``). The CLI and the service call these functions and nothing lower.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from monitor.collect import Collection, CycleReport, SourceResult
from monitor.config import Config
from monitor.errors import MonitorError
from monitor.sources import sources_from_config
from monitor.sources.base import Collector
from monitor.store import Store, open_store
from monitor.types import Item, Source, Tags, utcnow

if TYPE_CHECKING:
    from monitor.tagging import Tagger

log = logging.getLogger(__name__)

RETAG_ALL_KEY = "retag_all_done_through"


@dataclass(frozen=True)
class RetagResult:
    """What ``Monitor.retag`` did: items tagged, and the tagger version they now carry."""

    tagged: int
    version: str


class Monitor:
    """The application: one config, one store, the configured sources."""

    def __init__(self, config: Config, store: Store, *, clock: Callable[[], datetime] = utcnow):
        self.config = config
        self.store = store
        self.clock = clock
        self.sources: list[Source] = sources_from_config(config)
        store.sync_sources(self.sources, clock())
        self._tagger: Tagger | None = None

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tagger(self) -> "Tagger":
        """The configured tagger, loaded (spaCy and all) on first use."""
        if self._tagger is None:
            from monitor.tagging import load_tagger

            settings = self.config.tagger
            self._tagger = load_tagger(settings.model or None, settings.threshold)
        return self._tagger

    def tag_items(self, items: list[Item]) -> Mapping[str, Tags]:
        """Tags for ``items`` by item id, in batches through the spaCy pipeline."""
        pairs = ((item.title, item.text) for item in items)
        tagged = self.tagger.tag_many(pairs, batch_size=self.config.tagger.batch_size)
        return {item.id: tags for item, tags in zip(items, tagged)}

    def retag(self, *, all_items: bool = False, batch: int = 500,
              on_progress: Callable[[int, int], None] | None = None) -> RetagResult:
        """Re-tag items whose tags are missing or come from an older tagger version.

        Works in batches, each stored in its own transaction, so an interrupted run
        keeps what it finished and the next run continues with the rest. With
        ``all_items`` every item is re-tagged, in id order; the last id done is kept
        in the database so an interrupted ``--all`` run resumes instead of starting over.
        ``on_progress(done, total)`` is called after each batch.
        """
        store = self.store
        version = self.tagger.version
        # --all remembers the last item it finished, in the same transaction as its tags.
        after = (store.get_setting(RETAG_ALL_KEY) or "") if all_items else ""
        total = store.count_stale(version, include_all=all_items, after=after)
        done = 0
        while True:
            rows = store.stale_items(version, include_all=all_items, after=after, limit=batch)
            if not rows:
                break
            tagged = self.tagger.tag_many(((title, text) for _id, title, text in rows),
                                          batch_size=self.config.tagger.batch_size)
            after = rows[-1][0]
            store.save_tags(zip((row[0] for row in rows), tagged), self.clock(),
                            progress=(RETAG_ALL_KEY, after) if all_items else None)
            done += len(rows)
            if on_progress:
                on_progress(done, total)
        if all_items:
            store.set_setting(RETAG_ALL_KEY, None, self.clock())
        return RetagResult(done, version)

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
        collection = Collection(self.config, self.store, self.collectors(), clock=self.clock, tag=self.tag_items)
        return collection.run(sources, scheduled=scheduled, force=force, on_result=on_result)


def open_monitor(config: Config, *, clock: Callable[[], datetime] = utcnow) -> Monitor:
    """Open the configured database (migrating it) and sync the configured sources."""
    store = open_store(Path(config.storage.path))
    return Monitor(config, store, clock=clock)

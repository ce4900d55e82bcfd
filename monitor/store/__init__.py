"""Storage: one SQLite file, opened and migrated here, written through :class:`Store`.

Everything that touches SQL is in this package: ``schema`` (migrations), ``db``
(connection and transactions), ``items`` and ``state``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Iterable, Mapping

from sqlite_utils import Database

from monitor.store import items as _items
from monitor.store import state as _state
from monitor.store import tags as _tags
from monitor.store.db import connect, migrate, refresh_statistics, write
from monitor.store.items import SaveCounts
from monitor.store.state import Run
from monitor.types import FetchState, Item, Source, Tags

__all__ = ["Store", "open_store", "SaveCounts", "Run"]


class Store:
    """The database, with the operations the pipeline needs. Not thread-safe: one
    thread writes (the collection loop's consumer), readers open their own."""

    def __init__(self, db: Database, path: str | Path):
        self.db = db
        self.path = Path(path)

    def close(self) -> None:
        """Close, first refreshing the planner's statistics if the data grew a lot."""
        refresh_statistics(self.db)
        self.db.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # sources and state
    def sync_sources(self, sources: Iterable[Source], now: datetime) -> None:
        with write(self.db):
            _state.sync_sources(self.db, sources, now)

    def states(self) -> dict[str, FetchState]:
        return _state.get_states(self.db)

    def state(self, source_id: str) -> FetchState:
        return _state.get_state(self.db, source_id)

    def record_failure(self, state: FetchState, run: Run) -> None:
        """Store a failed run and the source's new back-off state, together."""
        with write(self.db):
            _state.put_state(self.db, state)
            _state.add_run(self.db, run)

    def record_run(self, state: FetchState, run: Run) -> None:
        """Store a run that wrote no items (not modified, skipped) with its state."""
        self.record_failure(state, run)

    # items
    def changed_items(self, source: Source, items: Iterable[Item]) -> list[Item]:
        return _items.changed_items(self.db, source, items)

    def save_batch(
        self,
        source: Source,
        items: list[Item],
        state: FetchState,
        run: Run,
        now: datetime,
        *,
        tags: Mapping[str, Tags] | None = None,
    ) -> SaveCounts:
        """Store one source's batch, its new fetch state and its run row, all or nothing.

        The validators in ``state`` are only stored if the items are, so a failed
        batch is fetched again in full next time instead of being lost to a 304.
        ``tags`` (by item id) are stored with the items they belong to.
        """
        with write(self.db):
            counts = _items.save_items(self.db, source, items, now)
            for item_id in counts.new + counts.updated:
                # tags are keyed by the incoming item's id; a merged item keeps its stored id
                found = (tags or {}).get(counts.incoming[item_id])
                if found is not None:
                    _tags.save_tags(self.db, item_id, found, now)
            if counts.new:
                state = dataclasses.replace(state, last_new_at=now)
            _state.put_state(self.db, state)
            _state.add_run(
                self.db,
                Run(**{**run.__dict__, "new": len(counts.new), "updated": len(counts.updated), "seen": counts.seen}),
            )
        return counts

    def source_stats(self) -> list[dict]:
        return _state.source_stats(self.db)

    def count_items(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]


def open_store(path: str | Path, *, migrate_schema: bool = True) -> Store:
    """Open (creating if needed) and migrate the database at ``path``."""
    db = connect(path)
    if migrate_schema:
        migrate(db)
    return Store(db, path)

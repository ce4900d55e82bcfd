"""Storage: one SQLite file, opened and migrated here, written through :class:`Store`.

Everything that touches SQL is in this package: ``schema`` (migrations), ``db``
(connection and transactions), ``items`` and ``state``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Mapping

from sqlite_utils import Database

from monitor.store import items as _items
from monitor.cluster import ClusterIndex, Signature
from monitor.config import ClustersConfig
from monitor.store import clusters as _clusters
from monitor.store import state as _state
from monitor.store import tags as _tags
from monitor.store.db import connect, migrate, refresh_statistics, write
from monitor.store.items import SaveCounts
from monitor.store.state import Recheck, Run
from monitor.types import FetchState, Item, Source, Tags, from_iso

__all__ = ["Store", "open_store", "SaveCounts", "Run", "Recheck"]


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

    def refresh_statistics(self) -> bool:
        """ANALYZE if the data has grown (or shrunk) a lot since the last time: cheap otherwise."""
        return refresh_statistics(self.db)

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
        signatures: Mapping[str, Signature | None] | None = None,
        cluster_index: ClusterIndex | None = None,
        deleted: Iterable[str] = (),
    ) -> SaveCounts:
        """Store one source's batch, its new fetch state and its run row, all or nothing.

        The validators in ``state`` are only stored if the items are, so a failed
        batch is fetched again in full next time instead of being lost to a 304.
        ``tags`` (by item id) are stored with the items they belong to; new items
        with a MinHash ``signature`` join their syndication cluster. Stored items
        whose ids are in ``deleted`` (reported deleted upstream) are purged.
        """
        with write(self.db):
            counts = _items.save_items(self.db, source, items, now)
            counts.purged = _items.purge_items(self.db, deleted, now)
            for item_id in counts.new + counts.updated:
                # tags are keyed by the incoming item's id; a merged item keeps its stored id
                found = (tags or {}).get(counts.incoming[item_id])
                if found is not None:
                    _tags.save_tags(self.db, item_id, found, now)
            indexed: list[tuple[str, Signature, datetime, str]] = []
            batch_index = (ClusterIndex(cluster_index.window.total_seconds() / 86400, cluster_index.threshold)
                           if cluster_index is not None else None)
            for item_id in counts.new if signatures else ():
                sig = signatures.get(counts.incoming[item_id])  # type: ignore[union-attr]
                if sig is None:
                    continue
                published, title = self.db.execute(
                    "SELECT published_at, title FROM items WHERE id = ?", [item_id]).fetchone()
                _clusters.record_signature(self.db, item_id, published, sig)
                if cluster_index is not None and batch_index is not None:
                    when: datetime = from_iso(published)  # type: ignore[assignment]
                    # a copy stored earlier, or an earlier copy in this same batch
                    match = cluster_index.match(sig, title, when) or batch_index.match(sig, title, when)
                    if match is not None:
                        _clusters.join(self.db, item_id, match, now)
                    batch_index.add(item_id, sig, when, title)
                    indexed.append((item_id, sig, when, title))
            if counts.new:
                state = dataclasses.replace(state, last_new_at=now)
            _state.put_state(self.db, state)
            _state.add_run(
                self.db,
                Run(**{**run.__dict__, "new": len(counts.new), "updated": len(counts.updated), "seen": counts.seen}),
            )
        if cluster_index is not None:  # only once committed, so the index never holds rolled-back items
            for item_id, sig, when, title in indexed:
                cluster_index.add(item_id, sig, when, title)
        return counts

    # Reddit comments
    def comment_candidates(self, since: datetime, limit: int) -> list[tuple[str, str, str, str | None, str | None]]:
        return _items.comment_candidates(self.db, since, limit)

    def save_comments(self, source: Source, post_id: str, items: list[Item], now: datetime, *,
                      tags: Mapping[str, Tags] | None = None) -> SaveCounts:
        """Store a post's comments (as items of the post's source) and mark the post's
        comments fetched, together. No fetch state or run row: this is not a poll."""
        with write(self.db):
            counts = _items.save_items(self.db, source, items, now)
            for item_id in counts.new + counts.updated:
                found = (tags or {}).get(counts.incoming[item_id])
                if found is not None:
                    _tags.save_tags(self.db, item_id, found, now)
            _items.mark_comments_fetched(self.db, post_id, len(items), now)
        return counts

    # upstream deletions
    def recent_ids(self, media: str, since: datetime, *, prefix: str = "") -> list[str]:
        return _items.recent_ids(self.db, media, since, prefix=prefix)

    def apply_deletions(self, purge: Iterable[str], authors_gone: Iterable[str], now: datetime) -> tuple[int, int]:
        """Purge items deleted upstream and drop authors whose accounts are gone, in one
        transaction. Returns (items purged, authors cleared)."""
        with write(self.db):
            purged = _items.purge_items(self.db, purge, now)
            cleared = _items.clear_authors(self.db, authors_gone, now)
        return purged, cleared

    def record_recheck(self, recheck: Recheck) -> None:
        with write(self.db):
            _state.add_recheck(self.db, recheck)

    def last_recheck(self, media: str) -> Recheck | None:
        return _state.last_recheck(self.db, media)

    def load_cluster_index(self, config: ClustersConfig, now: datetime) -> ClusterIndex:
        """The signatures of items recent enough to have copies arriving now."""
        index = ClusterIndex(config.window_days, config.threshold)
        for item_id, published, sig, title in _clusters.recent_signatures(
                self.db, now - timedelta(days=2 * config.window_days)):
            index.add(item_id, sig, published, title)
        return index

    def prune_signatures(self, older_than: datetime) -> int:
        """Drop clustering signatures of items too old to have new copies."""
        with write(self.db):
            return _clusters.prune(self.db, older_than)

    # tags
    def save_tags(self, tagged: Iterable[tuple[str, Tags]], now: datetime,
                  progress: tuple[str, str] | None = None) -> None:
        """Replace the tags of several items in one transaction, with an optional
        (settings key, value) progress marker written in the same transaction."""
        with write(self.db):
            for item_id, tags in tagged:
                _tags.save_tags(self.db, item_id, tags, now)
            if progress is not None:
                _tags.set_setting(self.db, progress[0], progress[1], now)

    def stale_items(self, version: str, *, include_all: bool = False, after: str = "",
                    limit: int = 500) -> list[tuple[str, str, str]]:
        return _tags.stale_items(self.db, version, include_all=include_all, after=after, limit=limit)

    def count_stale(self, version: str, *, include_all: bool = False, after: str = "") -> int:
        return _tags.count_stale(self.db, version, include_all=include_all, after=after)

    def get_setting(self, key: str) -> str | None:
        return _tags.get_setting(self.db, key)

    def set_setting(self, key: str, value: str | None, now: datetime) -> None:
        with write(self.db):
            _tags.set_setting(self.db, key, value, now)

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

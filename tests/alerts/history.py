"""Synthetic tagged histories for spike tests, written through the production write path
(``Store.save_batch`` with ``Tags``), one batch per source. Titles and outlets are invented."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable

from monitor.sources import source_id
from monitor.store import Run, Store, open_store
from monitor.types import FetchState, Item, Source, Tags, to_iso


class History:
    """``h = History(path, now); h.add("Wirecast", at, topics=[...], platforms=[...]); h.flush()``."""

    def __init__(self, path: Path | str, now: datetime, created: datetime | None = None, prefix: str = "h"):
        self.now = now
        self.prefix = prefix  # item ids and URLs: unique per History written to one database
        self.store: Store = open_store(path)
        self.created = created or now - timedelta(days=90)
        self.sources: dict[str, Source] = {}
        self.pending: dict[str, list[tuple[Item, Tags, str | None]]] = {}
        self._ids = itertools.count(1)

    def source(self, name: str) -> Source:
        if name not in self.sources:
            self.sources[name] = Source(source_id("feed", name), "feed", name,
                                        f"https://{name.lower().replace(' ', '')}.example/feed.xml")
            self.store.sync_sources(self.sources.values(), self.created)
        return self.sources[name]

    def add(self, outlet: str, at: datetime, *, topics: Iterable[str] = (), platforms: Iterable[str] = (),
            title: str | None = None, cluster: str | None = None, relevant: bool = True) -> str:
        source = self.source(outlet)
        number = next(self._ids)
        key = f"{self.prefix}{number:06d}"
        item = Item(id=key, source_id=source.id, url=f"https://{source.id.split(':')[1]}.example/{key}",
                    title=title or f"Invented story number {number}", text=f"Invented test text {number}.",
                    published_at=at, guid=f"guid-{key}")
        tags = Tags(relevant=relevant, score=0.9 if relevant else 0.1, topics=tuple(topics),
                    platforms=tuple(platforms), why=("test",), version="test-1")
        self.pending.setdefault(outlet, []).append((item, tags, cluster))
        return item.id

    def flush(self) -> None:
        store = self.store
        for outlet, entries in self.pending.items():
            source = self.sources[outlet]
            items = [item for item, _tags, _cluster in entries]
            store.save_batch(source, items, FetchState(source.id), Run("history", source.id, self.now, self.now, "ok"),
                             self.now, tags={item.id: tags for item, tags, _cluster in entries})
            with store.db.conn:
                for item, _tags, cluster in entries:
                    if cluster:
                        store.db.execute("UPDATE items SET cluster_id = ? WHERE id = ?", [cluster, item.id])
                        store.db.execute(
                            "INSERT OR IGNORE INTO clusters (id, title, size, outlets, first_published_at,"
                            " last_published_at, updated_at) VALUES (?, ?, 1, 1, ?, ?, ?)",
                            [cluster, item.title, to_iso(item.published_at), to_iso(item.published_at),
                             to_iso(self.now)])
        self.pending.clear()

    def close(self) -> None:
        self.store.close()

"""Build realistic digest databases in tests: sources, tagged items, clusters, fetch state.

Items and tags go through the production write path (``Store.save_batch`` with
``Tags``); what other parts of the pipeline write (syndication clusters, Reddit
engagement, upstream deletion, failure state) is set with the same SQL shape they
use. Every title, outlet and figure here is invented for the tests.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from monitor.sources import source_id
from monitor.sources.normalise import slugify
from monitor.store import Run, Store, open_store
from monitor.types import FetchState, Item, Source, Statistic, Tags, to_iso

UTC = timezone.utc


class DigestDB:
    """``db = DigestDB(path, now); gazette = db.source("Gazette"); db.item(gazette, "Title", hours_ago=2, ...)``"""

    def __init__(self, path: Path | str, now: datetime, store: Store | None = None):
        self.now = now
        self.store = store or open_store(path)
        self.sources: dict[str, Source] = {}
        self._ids = itertools.count(1)

    def close(self) -> None:
        self.store.close()

    def source(self, name: str, kind: str = "feed", *, url: str | None = None, created: datetime | None = None
               ) -> Source:
        source = Source(id=source_id(kind, name), kind=kind, name=name, url=url or feed_url(name))
        self.sources[source.id] = source
        self.store.sync_sources(self.sources.values(), created or self.now - timedelta(days=90))
        return source

    def item(
        self,
        source: Source,
        title: str,
        *,
        hours_ago: float | None = None,
        at: datetime | None = None,
        relevant: bool | None = True,
        topics: Iterable[str] = (),
        platforms: Iterable[str] = (),
        laws: Iterable[str] = (),
        stats: Iterable[tuple[str, ...]] = (),  # (value, sentence) or (value, sentence, unit, of)
        text: str | None = None,
        summary_html: str | None = None,
        url: str | None = "auto",
        cluster: str | None = None,
        comments: int | None = None,
        score: int | None = None,
        extra: dict[str, Any] | None = None,
        deleted: bool = False,
        also_in: Iterable[Source] = (),
        item_id: str | None = None,
        collected: datetime | None = None,
    ) -> str:
        """Store one item (and its tags unless ``relevant`` is None); returns its id.
        ``collected``: when it was collected (default: the database's ``now``)."""
        number = next(self._ids)
        published = at or self.now - timedelta(hours=hours_ago if hours_ago is not None else 1)
        item = Item(
            id=item_id or f"t{number:06d}",
            source_id=source.id,
            url=f"https://{source.id.split(':')[1]}.example/story/{number}" if url == "auto" else url,
            title=title,
            text=text if text is not None else f"{title}. Invented test text number {number}.",
            summary_html=summary_html if summary_html is not None else f"<p>{title}. Invented test text.</p>",
            published_at=published,
            guid=f"guid-{number}",
            extra=extra or {},
        )
        tags = None
        if relevant is not None:
            tags = {item.id: Tags(
                relevant=relevant, score=0.9 if relevant else 0.1, topics=tuple(topics), platforms=tuple(platforms),
                legislation=tuple(laws),
                statistics=tuple(
                    Statistic(stat[0], _number(stat[0]), *(stat[2:3] or ("",)), stat[1], *stat[3:4])
                    for stat in stats
                ),
                why=("test",), version="test-1",
            )}
        run = Run("test", source.id, self.now, self.now, "ok")
        counts = self.store.save_batch(source, [item], FetchState(source.id), run, self.now, tags=tags)
        stored = (counts.new + counts.updated)[0]
        for other in also_in:
            self.store.save_batch(other, [replace(item, source_id=other.id, guid=None)], FetchState(other.id),
                                  Run("test", other.id, self.now, self.now, "ok"), self.now)
        with self.store.db.conn:
            self.store.db.execute(
                "UPDATE items SET cluster_id = ?, comments = ?, popularity = ?, deleted_at = ?,"
                " collected_at = ? WHERE id = ?",
                [cluster, comments, score, to_iso(self.now) if deleted else None, to_iso(collected or self.now),
                 stored],
            )
        return stored

    def cluster(self, cluster_id: str, title: str, first: datetime, size: int = 2, outlets: int = 2) -> None:
        with self.store.db.conn:
            self.store.db.execute(
                "INSERT OR REPLACE INTO clusters (id, title, size, outlets, first_published_at, last_published_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [cluster_id, title, size, outlets, to_iso(first), to_iso(first), to_iso(self.now)],
            )

    def failing(self, source: Source, *, failures: int, error: str, since: datetime, last_success: datetime | None,
                next_due: datetime | None = None, gone: bool = False) -> None:
        """Record ``failures`` failed runs from ``since`` on, as the collection loop does."""
        state = FetchState(source.id, failures=failures, last_error=error, last_error_at=self.now,
                           last_success_at=last_success, next_due_at=next_due,
                           gone_at=since if gone else None, last_status=410 if gone else 500)
        runs = [Run("test", source.id, since + timedelta(hours=i), since + timedelta(hours=i), "failed", error=error)
                for i in range(failures)]
        for run in runs:
            self.store.record_failure(state, run)
        if not runs:
            self.store.record_run(state, Run("test", source.id, self.now, self.now, "ok"))


def feed_url(name: str) -> str:
    return f"https://{slugify(name)}.test/feed.xml"


def _number(value: str) -> float | None:
    digits = "".join(ch for ch in value if ch.isdigit() or ch == ".")
    try:
        return float(digits)
    except ValueError:
        return None

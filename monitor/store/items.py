"""Items and the sources that carried them. All item SQL lives here.

Deduplication order for an incoming item: the (source, GUID) it was seen under
before, then its natural key, then its normalised URL. An item found again under
its own source with new content is updated in place; found under another source it
only gains an ``item_sources`` row, so two outlets' copies never flip-flop the text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlite_utils import Database

from monitor.sources.normalise import content_hash
from monitor.types import Item, Source, to_iso


@dataclass
class SaveCounts:
    """What one batch did: ids of new and updated items, and how many were unchanged."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    seen: int = 0
    # stored id -> id of the incoming item it came from (they differ when merged)
    incoming: dict[str, str] = field(default_factory=dict)


def item_hash(item: Item) -> str:
    return content_hash(item.title, item.text, item.url, item.summary_html)


class _Index:
    """Where the items of one batch already are: looked up in three queries per batch
    (not per item), then kept up to date as the batch inserts rows, so two entries of
    one batch that share a URL also become one item."""

    def __init__(self, db: Database, source: Source, items: list[Item]):
        self.by_guid: dict[str, tuple[str, str, str]] = {}
        self.by_id: dict[str, tuple[str, str, str]] = {}
        self.by_url: dict[str, tuple[str, str, str]] = {}
        guids = [i.guid for i in items if i.guid]
        for chunk in _chunks(guids):
            marks = ",".join("?" * len(chunk))
            for guid, *row in db.execute(
                "SELECT s.guid, i.id, i.source_id, i.content_hash FROM item_sources s JOIN items i ON i.id = s.item_id"
                f" WHERE s.source_id = ? AND s.guid IN ({marks})",
                [source.id, *chunk],
            ):
                self.by_guid[guid] = tuple(row)  # type: ignore[assignment]
        for chunk in _chunks([i.id for i in items]):
            marks = ",".join("?" * len(chunk))
            for row in db.execute(f"SELECT id, source_id, content_hash FROM items WHERE id IN ({marks})", chunk):
                self.by_id[row[0]] = tuple(row)  # type: ignore[assignment]
        for chunk in _chunks([i.url for i in items if i.url]):
            marks = ",".join("?" * len(chunk))
            for row in db.execute(f"SELECT url, id, source_id, content_hash FROM items WHERE url IN ({marks})", chunk):
                self.by_url[row[0]] = tuple(row[1:])  # type: ignore[assignment]

    def find(self, item: Item) -> tuple[str, str, str] | None:
        """(id, source_id, content_hash) of the stored row this item is, if any."""
        return ((self.by_guid.get(item.guid) if item.guid else None) or self.by_id.get(item.id)
                or (self.by_url.get(item.url) if item.url else None))

    def remember(self, item: Item, row: tuple[str, str, str]) -> None:
        if item.guid:
            self.by_guid[item.guid] = row
        self.by_id[item.id] = row
        if item.url:
            self.by_url[item.url] = row


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def changed_items(db: Database, source: Source, items: Iterable[Item]) -> list[Item]:
    """The items that a save would insert or update (read-only; used to tag before writing)."""
    items = list(items)
    index = _Index(db, source, items)
    result = []
    for item in items:
        digest = item_hash(item)
        found = index.find(item)
        if found is None or (found[1] == source.id and found[2] != digest):
            result.append(item)
            index.remember(item, (item.id, source.id, digest))
    return result


def save_items(db: Database, source: Source, items: Iterable[Item], now: datetime) -> SaveCounts:
    """Insert new items, update changed ones, link every item to ``source``.

    Must run inside :func:`monitor.store.db.write`; it does not commit.
    """
    items = list(items)
    counts = SaveCounts()
    stamp = to_iso(now)
    index = _Index(db, source, items)
    links: list[tuple[str, str, str | None, str | None, str | None]] = []
    for item in items:
        digest = item_hash(item)
        found = index.find(item)
        published = to_iso(item.published_at) or stamp
        if found is None:
            db.execute(
                "INSERT INTO items (id, source_id, media, url, guid, title, text, summary_html, author,"
                " published_at, collected_at, updated_at, content_hash, extra)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [item.id, source.id, source.media, item.url, item.guid, item.title, item.text,
                 item.summary_html, item.author, published, stamp, stamp, digest,
                 json.dumps(item.extra, ensure_ascii=False, sort_keys=True)],
            )
            item_id = item.id
            counts.new.append(item_id)
            counts.incoming[item_id] = item.id
            index.remember(item, (item_id, source.id, digest))
        else:
            item_id, owner, old_digest = found
            if owner == source.id and old_digest != digest:
                url = item.url
                if url:
                    clash = db.execute("SELECT 1 FROM items WHERE url = ? AND id != ?", [url, item_id]).fetchone()
                    if clash:
                        url = None  # keep the old URL rather than merge two stored items
                db.execute(
                    "UPDATE items SET url = COALESCE(?, url), title = ?, text = ?, summary_html = ?,"
                    " author = ?, published_at = COALESCE(?, published_at), updated_at = ?, content_hash = ?,"
                    " extra = ? WHERE id = ?",
                    [url, item.title, item.text, item.summary_html, item.author, to_iso(item.published_at),
                     stamp, digest, json.dumps(item.extra, ensure_ascii=False, sort_keys=True), item_id],
                )
                counts.updated.append(item_id)
                counts.incoming[item_id] = item.id
                index.remember(item, (item_id, owner, digest))
            else:
                counts.seen += 1
        links.append((item_id, source.id, item.guid, stamp, stamp))
    db.conn.executemany(_LINK_SQL, links)
    return counts


_LINK_SQL = (
    "INSERT INTO item_sources (item_id, source_id, guid, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (item_id, source_id) DO UPDATE SET last_seen_at = excluded.last_seen_at,"
    " guid = COALESCE(item_sources.guid, excluded.guid)"
)


def link_source(db: Database, item_id: str, source_id: str, guid: str | None, stamp: str | None) -> None:
    """Record that ``source_id`` carried ``item_id`` (idempotent)."""
    db.execute(_LINK_SQL, [item_id, source_id, guid, stamp, stamp])

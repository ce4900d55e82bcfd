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


def _existing(db: Database, source: Source, item: Item) -> tuple[str, str, str] | None:
    """(id, source_id, content_hash) of the stored row this item is, if any."""
    if item.guid:
        row = db.execute(
            "SELECT i.id, i.source_id, i.content_hash FROM item_sources s JOIN items i ON i.id = s.item_id"
            " WHERE s.source_id = ? AND s.guid = ?",
            [source.id, item.guid],
        ).fetchone()
        if row:
            return row
    row = db.execute("SELECT id, source_id, content_hash FROM items WHERE id = ?", [item.id]).fetchone()
    if row:
        return row
    if item.url:
        row = db.execute("SELECT id, source_id, content_hash FROM items WHERE url = ?", [item.url]).fetchone()
        if row:
            return row
    return None


def changed_items(db: Database, source: Source, items: Iterable[Item]) -> list[Item]:
    """The items that a save would insert or update (read-only; used to tag before writing)."""
    result = []
    for item in items:
        found = _existing(db, source, item)
        if found is None or (found[1] == source.id and found[2] != item_hash(item)):
            result.append(item)
    return result


def save_items(db: Database, source: Source, items: Iterable[Item], now: datetime) -> SaveCounts:
    """Insert new items, update changed ones, link every item to ``source``.

    Must run inside :func:`monitor.store.db.write`; it does not commit.
    """
    counts = SaveCounts()
    stamp = to_iso(now)
    for item in items:
        digest = item_hash(item)
        found = _existing(db, source, item)
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
                    " author = ?, published_at = ?, updated_at = ?, content_hash = ?, extra = ?"
                    " WHERE id = ?",
                    [url, item.title, item.text, item.summary_html, item.author,
                     to_iso(item.published_at) or _stored_published(db, item_id), stamp, digest,
                     json.dumps(item.extra, ensure_ascii=False, sort_keys=True), item_id],
                )
                counts.updated.append(item_id)
                counts.incoming[item_id] = item.id
            else:
                counts.seen += 1
        link_source(db, item_id, source.id, item.guid, stamp)
    return counts


def link_source(db: Database, item_id: str, source_id: str, guid: str | None, stamp: str | None) -> None:
    """Record that ``source_id`` carried ``item_id`` (idempotent)."""
    db.execute(
        "INSERT INTO item_sources (item_id, source_id, guid, first_seen_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (item_id, source_id) DO UPDATE SET last_seen_at = excluded.last_seen_at,"
        " guid = COALESCE(item_sources.guid, excluded.guid)",
        [item_id, source_id, guid, stamp, stamp],
    )


def _stored_published(db: Database, item_id: str) -> str:
    return db.execute("SELECT published_at FROM items WHERE id = ?", [item_id]).fetchone()[0]

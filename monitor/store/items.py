"""Items and the sources that carried them. All item SQL lives here.

Deduplication order for an incoming item: the (source, GUID) it was seen under
before, then its natural key, then its normalised URL. An item found again under
its own source with new content is updated in place; found under another source it
only gains an ``item_sources`` row, so two outlets' copies never flip-flop the text.

An item purged because it was deleted upstream (``deleted_at`` set) is never
revived by a later fetch: it stays a bare id, as Reddit's data terms require.
Engagement counts (``popularity``, ``comments``) are a property of the post, not of
one source's copy: they are refreshed whenever any source sees the item again.
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
    purged: int = 0  # stored items purged because the source reported them deleted upstream
    # stored id -> id of the incoming item it came from (they differ when merged)
    incoming: dict[str, str] = field(default_factory=dict)


def item_hash(item: Item) -> str:
    return content_hash(item.title, item.text, item.url, item.summary_html)


def _existing(db: Database, source: Source, item: Item) -> tuple[str, str, str, str | None] | None:
    """(id, source_id, content_hash, deleted_at) of the stored row this item is, if any."""
    if item.guid:
        row = db.execute(
            "SELECT i.id, i.source_id, i.content_hash, i.deleted_at FROM item_sources s"
            " JOIN items i ON i.id = s.item_id WHERE s.source_id = ? AND s.guid = ?",
            [source.id, item.guid],
        ).fetchone()
        if row:
            return row
    row = db.execute("SELECT id, source_id, content_hash, deleted_at FROM items WHERE id = ?", [item.id]).fetchone()
    if row:
        return row
    if item.url:
        row = db.execute("SELECT id, source_id, content_hash, deleted_at FROM items WHERE url = ?",
                         [item.url]).fetchone()
        if row:
            return row
    return None


def changed_items(db: Database, source: Source, items: Iterable[Item]) -> list[Item]:
    """The items that a save would insert or update (read-only; used to tag before writing)."""
    result = []
    for item in items:
        found = _existing(db, source, item)
        if found is None or (found[1] == source.id and found[2] != item_hash(item) and found[3] is None):
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
                " published_at, collected_at, updated_at, content_hash, extra, popularity, comments)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [item.id, source.id, source.media, item.url, item.guid, item.title, item.text,
                 item.summary_html, item.author, published, stamp, stamp, digest,
                 json.dumps(item.extra, ensure_ascii=False, sort_keys=True), item.popularity, item.comments],
            )
            item_id = item.id
            counts.new.append(item_id)
            counts.incoming[item_id] = item.id
        else:
            item_id, owner, old_digest, deleted_at = found
            if deleted_at is not None:  # purged upstream: stays purged, gains no source
                counts.seen += 1
                continue
            if item.popularity is not None or item.comments is not None:
                db.execute(
                    "UPDATE items SET popularity = COALESCE(?, popularity), comments = COALESCE(?, comments)"
                    " WHERE id = ?",
                    [item.popularity, item.comments, item_id],
                )
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


# --- upstream deletions -------------------------------------------------------------


def recent_ids(db: Database, media: str, since: datetime, *, prefix: str = "") -> list[str]:
    """Ids of stored, not yet purged ``media`` items published at or after ``since``
    (only ids starting with ``prefix``, if given), oldest first."""
    return [row[0] for row in db.execute(
        "SELECT id FROM items WHERE media = ? AND published_at >= ? AND deleted_at IS NULL"
        " AND substr(id, 1, ?) = ? ORDER BY published_at, id",
        [media, to_iso(since), len(prefix), prefix],
    ).fetchall()]


def purge_items(db: Database, ids: Iterable[str], now: datetime) -> int:
    """Purge items deleted or removed upstream: keep only the id, source, media, times
    and ``deleted_at``; drop title, text, HTML, author, URL (a permalink carries the
    title), extra fields, engagement, tags, statistics and cluster membership.

    The row itself stays so that the item is recognised, and not stored again, if a
    source lists it later. Must run inside a write transaction. Returns rows purged.
    """
    stamp = to_iso(now)
    purged = 0
    for item_id in ids:
        cursor = db.execute(
            "UPDATE items SET title = '', text = '', summary_html = '', author = NULL, url = NULL, guid = NULL,"
            " extra = '{}', popularity = NULL, comments = NULL, content_hash = '', relevant = NULL,"
            " score = NULL, why = '[]', tagger_version = NULL, tagged_at = NULL, cluster_id = NULL,"
            " updated_at = ?, deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
            [stamp, stamp, item_id],
        )
        if cursor.rowcount:
            purged += 1
            db.execute("DELETE FROM item_tags WHERE item_id = ?", [item_id])
            db.execute("DELETE FROM item_statistics WHERE item_id = ?", [item_id])
            db.execute("UPDATE item_sources SET guid = NULL WHERE item_id = ?", [item_id])
    return purged


def clear_authors(db: Database, ids: Iterable[str], now: datetime) -> int:
    """Remove the author (hash) of items whose author deleted their account upstream,
    keeping the content, which Reddit still shows. Returns rows changed."""
    stamp = to_iso(now)
    changed = 0
    for item_id in ids:
        cursor = db.execute(
            "UPDATE items SET author = NULL, updated_at = ? WHERE id = ? AND author IS NOT NULL", [stamp, item_id]
        )
        changed += cursor.rowcount
    return changed

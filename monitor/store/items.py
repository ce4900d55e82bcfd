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


Row = tuple[str, str, str, "str | None"]  # id, source_id, content_hash, deleted_at


class _Index:
    """Where the items of one batch already are: looked up in three queries per batch
    (not per item), then kept up to date as the batch inserts rows, so two entries of
    one batch that share a URL also become one item."""

    def __init__(self, db: Database, source: Source, items: list[Item]):
        self.by_guid: dict[str, Row] = {}
        self.by_id: dict[str, Row] = {}
        self.by_url: dict[str, Row] = {}
        guids = [i.guid for i in items if i.guid]
        for chunk in _chunks(guids):
            marks = ",".join("?" * len(chunk))
            for guid, *row in db.execute(
                "SELECT s.guid, i.id, i.source_id, i.content_hash, i.deleted_at FROM item_sources s"
                f" JOIN items i ON i.id = s.item_id WHERE s.source_id = ? AND s.guid IN ({marks})",
                [source.id, *chunk],
            ):
                self.by_guid[guid] = tuple(row)  # type: ignore[assignment]
        for chunk in _chunks([i.id for i in items]):
            marks = ",".join("?" * len(chunk))
            for row in db.execute(f"SELECT id, source_id, content_hash, deleted_at FROM items WHERE id IN ({marks})",
                                  chunk):
                self.by_id[row[0]] = tuple(row)  # type: ignore[assignment]
        for chunk in _chunks([i.url for i in items if i.url]):
            marks = ",".join("?" * len(chunk))
            for row in db.execute(
                    f"SELECT url, id, source_id, content_hash, deleted_at FROM items WHERE url IN ({marks})", chunk):
                self.by_url[row[0]] = tuple(row[1:])  # type: ignore[assignment]

    def find(self, item: Item) -> Row | None:
        """(id, source_id, content_hash, deleted_at) of the stored row this item is, if any."""
        return ((self.by_guid.get(item.guid) if item.guid else None) or self.by_id.get(item.id)
                or (self.by_url.get(item.url) if item.url else None))

    def remember(self, item: Item, row: Row) -> None:
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
        if found is None or (found[1] == source.id and found[2] != digest and found[3] is None):
            result.append(item)
            index.remember(item, (item.id, source.id, digest, None))
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
                " published_at, collected_at, updated_at, content_hash, extra, popularity, comments)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [item.id, source.id, source.media, item.url, item.guid, item.title, item.text,
                 item.summary_html, item.author, published, stamp, stamp, digest,
                 json.dumps(item.extra, ensure_ascii=False, sort_keys=True), item.popularity, item.comments],
            )
            item_id = item.id
            counts.new.append(item_id)
            counts.incoming[item_id] = item.id
            index.remember(item, (item_id, source.id, digest, None))
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
                    " author = ?, published_at = COALESCE(?, published_at), updated_at = ?, content_hash = ?,"
                    " extra = ? WHERE id = ?",
                    [url, item.title, item.text, item.summary_html, item.author, to_iso(item.published_at),
                     stamp, digest, json.dumps(item.extra, ensure_ascii=False, sort_keys=True), item_id],
                )
                counts.updated.append(item_id)
                counts.incoming[item_id] = item.id
                index.remember(item, (item_id, owner, digest, None))
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


# --- upstream deletions -------------------------------------------------------------


def recent_ids(db: Database, media: str, since: datetime, *, prefix: str = "") -> list[str]:
    """Ids of stored, not yet purged ``media`` items published at or after ``since``
    (only ids starting with ``prefix``, if given), oldest first."""
    return [row[0] for row in db.execute(
        "SELECT id FROM items WHERE media = ? AND published_at >= ? AND deleted_at IS NULL"
        " AND substr(id, 1, ?) = ? ORDER BY published_at, id",
        [media, to_iso(since), len(prefix), prefix],
    ).fetchall()]


# Exactly the expression and condition of the index items_reddit_parent (migration 0013), so
# SQLite uses it: a literal 'reddit' (a bound parameter would not match the partial index).
PURGE_PARENT_TITLE = ("UPDATE items SET extra = json_remove(extra, '$.parent_title')"
                      " WHERE media = 'reddit' AND json_extract(extra, '$.parent') = ?")


def purge_items(db: Database, ids: Iterable[str], now: datetime) -> int:
    """Purge items deleted or removed upstream: keep only the id, source, media, times
    and ``deleted_at``; drop title, text, HTML, author, URL (a permalink carries the
    title), extra fields, engagement, tags, statistics, the MinHash signature and
    cluster membership.

    The row itself stays so that the item is recognised, and not stored again, if a
    source lists it later. Must run inside a write transaction. Returns rows purged.
    """
    from monitor.store import clusters as _clusters

    stamp = to_iso(now)
    purged = 0
    for item_id in ids:
        row = db.execute("SELECT cluster_id FROM items WHERE id = ? AND deleted_at IS NULL", [item_id]).fetchone()
        if row is None:
            continue
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
            db.execute("DELETE FROM item_signatures WHERE item_id = ?", [item_id])
            db.execute("UPDATE item_sources SET guid = NULL WHERE item_id = ?", [item_id])
            if item_id.startswith("t3_"):  # a Reddit post: its stored comments quote its title, which goes too
                db.execute(PURGE_PARENT_TITLE, [item_id])
            if row[0]:  # its cluster loses a member (and maybe the headline it took from it)
                _clusters.members_removed(db, row[0], now)
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


# --- Reddit comments ----------------------------------------------------------------


def comment_candidates(db: Database, since: datetime, limit: int) -> list[tuple[str, str, str, str | None, str | None]]:
    """(id, source_id, title, subreddit, url) of relevant Reddit posts published since
    ``since`` that have comments and whose comments were never fetched, newest first."""
    return db.execute(
        "SELECT i.id, i.source_id, i.title, json_extract(i.extra, '$.subreddit'), i.url FROM items i"
        " WHERE i.media = 'reddit' AND substr(i.id, 1, 3) = 't3_' AND i.relevant = 1 AND i.deleted_at IS NULL"
        " AND i.published_at >= ? AND COALESCE(i.comments, 0) > 0"
        " AND NOT EXISTS (SELECT 1 FROM comment_fetches f WHERE f.item_id = i.id)"
        " ORDER BY i.published_at DESC, i.id LIMIT ?",
        [to_iso(since), limit],
    ).fetchall()


def mark_comments_fetched(db: Database, item_id: str, count: int, now: datetime) -> None:
    db.execute("INSERT OR REPLACE INTO comment_fetches (item_id, fetched_at, comments) VALUES (?, ?, ?)",
               [item_id, to_iso(now), count])

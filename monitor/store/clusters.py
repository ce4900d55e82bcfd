"""Syndication clusters in the database: signatures, LSH buckets, cluster rows.

An item joins the cluster of its most similar earlier item within the window; a
cluster's id is the id of its first item. ``clusters`` keeps a title (the first
item's), the number of items and of distinct outlets, and the time span.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from monitor.cluster import Signature, is_copy, strip_publisher, title_similarity
from monitor.types import to_iso


def assign(db: Database, item_id: str, published_at: str, sig: Signature, *, window_days: float,
           threshold: float, now: datetime, title: str = "") -> str | None:
    """Index ``item_id`` and put it in a cluster with its nearest near-duplicate, if any.

    Returns the cluster id, or None when the item has no near-duplicate yet. Must run
    inside a write transaction.
    """
    buckets = sig.bands()
    published = datetime.fromisoformat(published_at.replace("Z", "+00:00"))
    low = to_iso(published - timedelta(days=window_days))
    high = to_iso(published + timedelta(days=window_days))
    candidates: dict[str, tuple[bytes, str]] = {}
    for band, bucket in enumerate(buckets):
        for other_id, blob, other_title in db.execute(
            "SELECT s.item_id, s.signature, i.title FROM item_lsh l JOIN item_signatures s ON s.item_id = l.item_id"
            " JOIN items i ON i.id = s.item_id"
            " WHERE l.band = ? AND l.bucket = ? AND s.item_id != ? AND s.published_at BETWEEN ? AND ?",
            [band, bucket, item_id, low, high],
        ):
            candidates[other_id] = (blob, other_title)
    best_id, best_score = None, 0.0
    for other_id, (blob, other_title) in sorted(candidates.items()):
        score = sig.similarity(Signature.from_bytes(blob))
        if is_copy(score, title_similarity(title, other_title), threshold) and score > best_score:
            best_id, best_score = other_id, score
    db.execute("INSERT OR REPLACE INTO item_signatures (item_id, published_at, signature) VALUES (?, ?, ?)",
               [item_id, published_at, sig.to_bytes()])
    db.execute("DELETE FROM item_lsh WHERE item_id = ?", [item_id])
    db.conn.executemany("INSERT INTO item_lsh (band, bucket, item_id) VALUES (?, ?, ?)",
                        [(band, bucket, item_id) for band, bucket in enumerate(buckets)])
    if best_id is None:
        return None
    cluster_id = db.execute("SELECT cluster_id FROM items WHERE id = ?", [best_id]).fetchone()[0] or best_id
    db.execute("UPDATE items SET cluster_id = ? WHERE id IN (?, ?)", [cluster_id, best_id, item_id])
    refresh(db, cluster_id, now)
    return cluster_id


def refresh(db: Database, cluster_id: str, now: datetime) -> None:
    """Recompute one cluster's row from its items."""
    row = db.execute(
        """
        SELECT COUNT(*), COUNT(DISTINCT COALESCE(json_extract(i.extra, '$.publisher'), s.name)),
               MIN(i.published_at), MAX(i.published_at)
        FROM items i JOIN sources s ON s.id = i.source_id WHERE i.cluster_id = ?
        """,
        [cluster_id],
    ).fetchone()
    size, outlets, first, last = row
    # The story's headline: the earliest copy's, without a publisher suffix.
    title = db.execute("SELECT title FROM items WHERE cluster_id = ? ORDER BY published_at, id LIMIT 1",
                       [cluster_id]).fetchone()
    db.execute(
        "INSERT INTO clusters (id, title, size, outlets, first_published_at, last_published_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET title = excluded.title, size = excluded.size,"
        " outlets = excluded.outlets, first_published_at = excluded.first_published_at,"
        " last_published_at = excluded.last_published_at, updated_at = excluded.updated_at",
        [cluster_id, strip_publisher(title[0]) if title else "", size, outlets, first, last, to_iso(now)],
    )


def prune(db: Database, older_than: datetime) -> int:
    """Forget signatures of items published before ``older_than`` (they can no longer match)."""
    cursor = db.execute("DELETE FROM item_signatures WHERE published_at < ?", [to_iso(older_than)])
    return cursor.rowcount

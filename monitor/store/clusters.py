"""Syndication clusters in the database: signatures of recent items and cluster rows.

An item joins the cluster of its most similar earlier item within the window (found
with :class:`monitor.cluster.ClusterIndex`); a cluster's id is the id of the first
item matched. ``clusters`` keeps the story's headline (the earliest copy's, publisher
suffix removed), the number of items and of distinct outlets, and the time span.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from sqlite_utils import Database

from monitor.cluster import Signature, strip_publisher
from monitor.types import from_iso, to_iso


def recent_signatures(db: Database, since: datetime) -> Iterator[tuple[str, datetime, Signature, str]]:
    """(item id, published, signature, title) of items published since ``since``."""
    for item_id, published, blob, title in db.execute(
        "SELECT s.item_id, s.published_at, s.signature, i.title FROM item_signatures s"
        " JOIN items i ON i.id = s.item_id WHERE s.published_at >= ?",
        [to_iso(since)],
    ):
        yield item_id, from_iso(published), Signature.from_bytes(blob), title  # type: ignore[misc]


def record_signature(db: Database, item_id: str, published_at: str, sig: Signature) -> None:
    db.execute("INSERT OR REPLACE INTO item_signatures (item_id, published_at, signature) VALUES (?, ?, ?)",
               [item_id, published_at, sig.to_bytes()])


def join(db: Database, item_id: str, other_id: str, now: datetime) -> str:
    """Put ``item_id`` in ``other_id``'s cluster (creating it); returns the cluster id."""
    row = db.execute("SELECT cluster_id FROM items WHERE id = ?", [other_id]).fetchone()
    cluster_id = (row[0] if row else None) or other_id
    db.execute("UPDATE items SET cluster_id = ? WHERE id IN (?, ?)", [cluster_id, other_id, item_id])
    refresh(db, cluster_id, now)
    return cluster_id


def refresh(db: Database, cluster_id: str, now: datetime) -> None:
    """Recompute one cluster's row from its items."""
    size, outlets, first, last = db.execute(
        """
        SELECT COUNT(*), COUNT(DISTINCT COALESCE(json_extract(i.extra, '$.publisher'), s.name)),
               MIN(i.published_at), MAX(i.published_at)
        FROM items i JOIN sources s ON s.id = i.source_id WHERE i.cluster_id = ?
        """,
        [cluster_id],
    ).fetchone()
    title = db.execute("SELECT title FROM items WHERE cluster_id = ? ORDER BY published_at, id LIMIT 1",
                       [cluster_id]).fetchone()
    db.execute(
        "INSERT INTO clusters (id, title, size, outlets, first_published_at, last_published_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET title = excluded.title, size = excluded.size,"
        " outlets = excluded.outlets, first_published_at = excluded.first_published_at,"
        " last_published_at = excluded.last_published_at, updated_at = excluded.updated_at",
        [cluster_id, strip_publisher(title[0]) if title else "", size, outlets, first, last, to_iso(now)],
    )


def members_removed(db: Database, cluster_id: str, now: datetime) -> None:
    """A cluster lost members (purged or deleted items): refreshed (size, outlets,
    headline, span), or dissolved when one item or none is left."""
    left = db.execute("SELECT COUNT(*) FROM items WHERE cluster_id = ?", [cluster_id]).fetchone()[0]
    if left <= 1:
        db.execute("UPDATE items SET cluster_id = NULL WHERE cluster_id = ?", [cluster_id])
        db.execute("DELETE FROM clusters WHERE id = ?", [cluster_id])
    else:
        refresh(db, cluster_id, now)


def prune(db: Database, older_than: datetime) -> int:
    """Forget signatures of items published before ``older_than`` (they can no longer match)."""
    return db.execute("DELETE FROM item_signatures WHERE published_at < ?", [to_iso(older_than)]).rowcount

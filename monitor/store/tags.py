"""The tagger's output in the database: columns on ``items`` plus ``item_tags`` (long
form) and ``item_statistics``. Writing an item's tags replaces the previous ones."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Iterator

from sqlite_utils import Database

from monitor.types import Tags, to_iso

TAG_KINDS = {"topic": "topics", "platform": "platforms", "legislation": "legislation",
             "organisation": "organisations"}


def save_tags(db: Database, item_id: str, tags: Tags, now: datetime) -> None:
    """Replace ``item_id``'s tags. Must run inside a write transaction."""
    db.execute(
        "UPDATE items SET relevant = ?, score = ?, why = ?, tagger_version = ?, tagged_at = ? WHERE id = ?",
        [int(tags.relevant), round(float(tags.score), 4), json.dumps(list(tags.why), ensure_ascii=False),
         tags.version, to_iso(now), item_id],
    )
    db.execute("DELETE FROM item_tags WHERE item_id = ?", [item_id])
    db.execute("DELETE FROM item_statistics WHERE item_id = ?", [item_id])
    rows = [
        (item_id, kind, value, tags.version)
        for kind, attribute in TAG_KINDS.items()
        for value in dict.fromkeys(getattr(tags, attribute))
    ]
    if rows:
        db.conn.executemany(
            "INSERT OR IGNORE INTO item_tags (item_id, kind, value, tagger_version) VALUES (?, ?, ?, ?)", rows
        )
    if tags.statistics:
        db.conn.executemany(
            "INSERT INTO item_statistics (item_id, value, number, unit, sentence, tagger_version)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(item_id, s.value, s.number, s.unit, s.sentence, tags.version) for s in tags.statistics],
        )


def stale_items(db: Database, version: str, *, include_all: bool = False, after: str = "",
                limit: int = 500) -> list[tuple[str, str, str]]:
    """(id, title, text) of items whose tags are missing or older than ``version``,
    in id order after ``after``, so a re-tag can resume where it stopped."""
    condition = "1" if include_all else "(tagger_version IS NULL OR tagger_version != ?)"
    params: list[object] = [] if include_all else [version]
    return db.execute(
        f"SELECT id, title, text FROM items WHERE {condition} AND id > ? ORDER BY id LIMIT ?",
        [*params, after, limit],
    ).fetchall()


def count_stale(db: Database, version: str) -> int:
    return db.execute(
        "SELECT COUNT(*) FROM items WHERE tagger_version IS NULL OR tagger_version != ?", [version]
    ).fetchone()[0]


def iter_tag_rows(db: Database, item_id: str) -> Iterator[tuple[str, str]]:
    yield from db.execute("SELECT kind, value FROM item_tags WHERE item_id = ? ORDER BY kind, value", [item_id])

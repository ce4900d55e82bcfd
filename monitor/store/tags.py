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
            'INSERT INTO item_statistics (item_id, value, number, unit, "of", sentence, tagger_version)'
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(item_id, s.value, s.number, s.unit, s.of, s.sentence, tags.version) for s in tags.statistics],
        )


_STALE = "deleted_at IS NULL AND (? OR tagger_version IS NULL OR tagger_version != ?)"


def stale_items(db: Database, version: str, *, include_all: bool = False, after: str = "",
                limit: int = 500) -> list[tuple[str, str, str]]:
    """(id, title, text) of items whose tags are missing or older than ``version``
    (every item with ``include_all``), in id order after ``after``, so a re-tag works
    through them in batches and can resume."""
    return db.execute(
        f"SELECT id, title, text FROM items WHERE {_STALE} AND id > ? ORDER BY id LIMIT ?",
        [int(include_all), version, after, limit],
    ).fetchall()


def count_stale(db: Database, version: str, *, include_all: bool = False, after: str = "") -> int:
    return db.execute(f"SELECT COUNT(*) FROM items WHERE {_STALE} AND id > ?",
                      [int(include_all), version, after]).fetchone()[0]


def get_setting(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_setting(db: Database, key: str, value: str | None, now: datetime) -> None:
    if value is None:
        db.execute("DELETE FROM settings WHERE key = ?", [key])
    else:
        db.execute("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key)"
                   " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                   [key, value, to_iso(now)])


def iter_tag_rows(db: Database, item_id: str) -> Iterator[tuple[str, str]]:
    yield from db.execute("SELECT kind, value FROM item_tags WHERE item_id = ? ORDER BY kind, value", [item_id])

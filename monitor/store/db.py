"""Opening the database: pragmas, migrations, and the one way to write.

WAL lets an analyst read while the collector writes; ``busy_timeout`` makes writers
wait for each other instead of failing; every write transaction starts with
``BEGIN IMMEDIATE`` so it takes the write lock up front (a deferred transaction that
upgrades from read to write gets SQLITE_BUSY without waiting at all).
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlite_utils import Database

from monitor.errors import StorageError

BUSY_TIMEOUT_MS = 30_000


def connect(path: str | Path, *, readonly: bool = False) -> Database:
    """Open ``path`` (creating its folder and the file unless ``readonly``) with our pragmas."""
    path = Path(path)
    new = False
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False)
        else:
            new = not path.exists()
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
    except (sqlite3.Error, OSError) as error:
        raise StorageError(f"cannot open database {path}") from error
    if not readonly and new:
        match_owner(path, path.parent)
    for suffix in ("-wal", "-shm"):
        match_owner(Path(f"{path}{suffix}"), path)
    return Database(conn)


def match_owner(created: Path, like: Path) -> None:
    """Give a file root just created the owner of ``like``.

    An operator running ``sudo monitor doctor`` (or ``backup``) next to the service's
    database must not leave root-owned ``-wal``/``-shm`` files or backups behind: the
    service, running as its own user, could then no longer open or rotate them.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    try:
        owner = like.stat()
        mine = created.stat()
        if (mine.st_uid, mine.st_gid) != (owner.st_uid, owner.st_gid):
            os.chown(created, owner.st_uid, owner.st_gid)
    except OSError:
        pass


def migrate(db: Database) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    from monitor.store.schema import migrations

    pending = [m.name for m in migrations.pending(db)]
    if pending:
        try:
            migrations.apply(db)
        except sqlite3.Error as error:
            raise StorageError("cannot migrate the database schema") from error
    return pending


def pending_migrations(db: Database) -> list[str]:
    from monitor.store.schema import migrations

    return [m.name for m in migrations.pending(db)]


@contextmanager
def write(db: Database) -> Iterator[Database]:
    """One all-or-nothing write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``).

    Anything raised inside rolls the whole transaction back, so a batch is stored
    completely or not at all.
    """
    conn = db.conn
    if conn.in_transaction:  # nested: a savepoint inside the outer transaction
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def refresh_statistics(db: Database, *, minimum_items: int = 1000) -> bool:
    """Run ``ANALYZE`` when ``items`` has doubled or halved since the last one, or an
    index on the item tables has no statistics yet (a migration added it).

    The views, saved queries and digest rely on the planner choosing the right index
    (a day range over ``relevant = ?``); it only does so with statistics. A full
    ANALYZE takes seconds at a million items, so it runs about twenty times in the
    database's life. Returns whether it ran; never raises (statistics only speed
    things up).
    """
    try:
        count = db.execute("SELECT count(*) FROM items").fetchone()[0]
        if count < minimum_items:
            return False
        analyzed = 0
        unanalyzed = 1
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            row = db.execute(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'items' AND idx = 'sqlite_autoindex_items_1'"
            ).fetchone()
            analyzed = int(row[0].split()[0]) if row and row[0] else 0
            # Empty tables and partial indexes that match no row never get statistics.
            unanalyzed = sum(
                db.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
                    " AND sql NOT LIKE '% WHERE %'"
                    " AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL)",
                    [table],
                ).fetchone()[0]
                for table in ("items", "item_tags", "item_sources", "item_statistics")
                if db.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
            )
        if not unanalyzed and analyzed / 2 <= count <= analyzed * 2:
            return False
        db.execute("PRAGMA analysis_limit = 0")
        db.execute("ANALYZE")
        if db.conn.in_transaction:
            db.conn.commit()
        return True
    except sqlite3.Error:
        return False


def json_object(value: str | None) -> dict[str, Any]:
    """A JSON text column (``extra``, ``detail``) as a dict; anything else is an empty dict."""
    try:
        loaded = json.loads(value or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}

"""Opening the database to read it (search, export, browse) while the collector writes.

A reader never takes the write lock: it opens the file read-only, so an analyst's
query cannot block or change collection. Only when the file predates a migration is
it opened once for writing, to bring the schema up to date.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from monitor.errors import StorageError
from monitor.store.db import connect, migrate, pending_migrations, refresh_statistics

# Searches and views jump around a large file: a 64 MB page cache per reader keeps
# the hot index pages in memory (SQLite's default is 2 MB).
CACHE_KIB = 65_536


def open_reader(path: str | Path) -> Database:
    """A read-only connection to the database at ``path``, migrated if it was behind."""
    path = Path(path)
    if not path.is_file():
        raise StorageError(f"no database at {path}: run `monitor collect` (or `monitor demo`) first")
    try:
        db = connect(path, readonly=True)
        if pending_migrations(db):
            db.conn.close()
            writer = connect(path)
            migrate(writer)
            refresh_statistics(writer)
            writer.conn.close()
            db = connect(path, readonly=True)
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    except sqlite3.Error as error:
        raise StorageError(f"cannot read database {path}") from error
    return db

"""Looking after the database file: integrity, statistics, backups, retention. All SQL here.

Each function does one step and can be run on its own (``monitor backup``) or as part of
the daily maintenance (:meth:`monitor.app.Monitor.maintain`). None of them holds the
write lock for long: retention deletes in small transactions, so collection carries on
between them, and ``VACUUM INTO`` only reads (WAL lets writers go on meanwhile).
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from monitor.errors import StorageError
from monitor.store.db import match_owner, write
from monitor.types import to_iso

BACKUP_PREFIX = "monitor-"
BACKUP_SUFFIX = ".db"
_BACKUP_NAME = re.compile(r"^monitor-\d{8}T\d{6}Z\.db$")
PRUNE_BATCH = 500


def integrity_problems(db: Database, limit: int = 20) -> list[str]:
    """What ``PRAGMA integrity_check`` finds, at most ``limit`` lines; empty when the file is sound."""
    rows = [row[0] for row in db.execute(f"PRAGMA integrity_check({int(limit)})").fetchall()]
    return [] if rows == ["ok"] else rows


def optimize(db: Database) -> None:
    """Refresh the query planner's statistics where they are stale (cheap; SQLite decides)."""
    db.execute("PRAGMA optimize")


def backup_name(now: datetime) -> str:
    """``monitor-20261128T033000Z.db``: sorts by time, and says when it was taken."""
    return f"{BACKUP_PREFIX}{now:%Y%m%dT%H%M%SZ}{BACKUP_SUFFIX}"


def backup(db: Database, target: str | Path) -> int:
    """Write a consistent, compacted copy of the live database to ``target``; returns its size.

    ``VACUUM INTO`` reads one snapshot, so writers carry on meanwhile and the copy never
    holds half a batch. It is written under a ``.partial`` name and renamed when
    complete: a crash or kill leaves no file that looks like a good backup.
    """
    target = Path(target)
    if not target.parent.exists():
        target.parent.mkdir(parents=True)
        match_owner(target.parent, target.parent.parent)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        db.execute("VACUUM INTO ?", [str(partial)])
        os.replace(partial, target)
        match_owner(target, target.parent)
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise StorageError(f"backup to {target} failed") from error
    return target.stat().st_size


def backups(folder: str | Path) -> list[Path]:
    """Our backup files in ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _BACKUP_NAME.match(p.name))


def rotate_backups(folder: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups (and leftover ``.partial`` files); returns what went."""
    removed = []
    existing = backups(folder)
    for path in existing[: max(0, len(existing) - keep)]:
        path.unlink(missing_ok=True)
        removed.append(path)
    for leftover in Path(folder).glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}.partial"):
        leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


def prune_items(db: Database, media: str, published_before: datetime, batch: int = PRUNE_BATCH, *,
                now: datetime | None = None) -> int:
    """Delete items of one ``media`` (e.g. ``reddit``) published before a time; returns how many.

    Tags, statistics and source links go with them (``ON DELETE CASCADE``); a cluster
    that loses members is refreshed (size, outlets, headline) or dissolved, in the same
    transaction. Deleted in small transactions so collection is never held up for long.
    ``now`` stamps the refreshed clusters (default: ``published_before``).
    """
    from monitor.store import clusters

    cutoff = to_iso(published_before)
    total = 0
    while True:
        with write(db):
            rows = db.execute("SELECT rowid, cluster_id FROM items WHERE media = ? AND published_at < ? LIMIT ?",
                              [media, cutoff, batch]).fetchall()
            for start in range(0, len(rows), PRUNE_BATCH):
                chunk = [row[0] for row in rows[start:start + PRUNE_BATCH]]
                db.execute(f"DELETE FROM items WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)
            for cluster_id in sorted({row[1] for row in rows if row[1]}):
                clusters.members_removed(db, cluster_id, now or published_before)
        total += len(rows)
        if len(rows) < batch:
            return total


def prune_runs(db: Database, started_before: datetime, batch: int = PRUNE_BATCH * 10) -> int:
    """Delete ``runs`` rows older than a time; returns how many."""
    cutoff = to_iso(started_before)
    total = 0
    while True:
        with write(db):
            cursor = db.execute(
                "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE started_at < ? LIMIT ?)",
                [cutoff, batch],
            )
        total += cursor.rowcount
        if cursor.rowcount < batch:
            return total


@dataclass
class MaintenanceRun:
    """One row of ``maintenance_runs``."""

    started_at: datetime
    ended_at: datetime | None = None
    status: str = "ok"  # ok | failed
    integrity: str | None = None
    backup_path: str | None = None
    backup_bytes: int | None = None
    pruned_reddit: int = 0
    pruned_runs: int = 0
    error: str | None = None


def record_maintenance(db: Database, run: MaintenanceRun) -> None:
    with write(db):
        db.execute(
            "INSERT INTO maintenance_runs (started_at, ended_at, status, integrity, backup_path, backup_bytes,"
            " pruned_reddit, pruned_runs, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [to_iso(run.started_at), to_iso(run.ended_at or run.started_at), run.status, run.integrity,
             run.backup_path, run.backup_bytes, run.pruned_reddit, run.pruned_runs, run.error],
        )


def last_maintenance(db: Database) -> dict | None:
    """The latest maintenance run as a dict of its columns, or None."""
    cursor = db.execute("SELECT * FROM maintenance_runs ORDER BY started_at DESC, id DESC LIMIT 1")
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row)) if row else None

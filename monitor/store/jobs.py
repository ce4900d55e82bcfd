"""The service's job records (table ``service_jobs``): what ran when, and how it went.

Written by ``monitor run`` as each job ends; read by ``monitor doctor`` to
tell an operator whether the service is alive, from another process.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from monitor.store.db import write
from monitor.types import to_iso


def service_started(db: Database, jobs: list[str], pid: int, now: datetime) -> None:
    """Reset the per-start counters of ``jobs`` and record who runs them."""
    with write(db):
        for job in jobs:
            db.execute(
                "INSERT INTO service_jobs (job, pid, service_started_at, runs, errors, missed)"
                " VALUES (?, ?, ?, 0, 0, 0)"
                " ON CONFLICT (job) DO UPDATE SET pid = excluded.pid,"
                " service_started_at = excluded.service_started_at, runs = 0, errors = 0, missed = 0",
                [job, pid, to_iso(now)],
            )


def job_ended(db: Database, job: str, started: datetime, now: datetime, status: str, *, error: str | None = None,
              summary: str | None = None, runs: int = 0, errors: int = 0, missed: int = 0) -> None:
    """Record a job's outcome (``ok`` or ``failed``) and its counts since the service started.

    ``summary`` is kept from the last run that had one (a quiet tick keeps the last poll's).
    """
    with write(db):
        db.execute(
            "UPDATE service_jobs SET last_started_at = ?, last_ended_at = ?, last_status = ?, last_error = ?,"
            " last_summary = COALESCE(?, last_summary), runs = ?, errors = ?, missed = ? WHERE job = ?",
            [to_iso(started), to_iso(now), status, error, summary, runs, errors, missed, job],
        )


def job_records(db: Database) -> dict[str, dict]:
    """Every job's row, by job name."""
    cursor = db.execute("SELECT * FROM service_jobs ORDER BY job")
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row)) for row in cursor.fetchall()}

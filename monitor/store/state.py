"""Sources, fetch state and runs. All SQL about polling lives here."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlite_utils import Database

from monitor.types import FetchState, Source, from_iso, to_iso

_TIME_FIELDS = {f.name for f in dataclasses.fields(FetchState) if f.name.endswith("_at")}


def sync_sources(db: Database, sources: Iterable[Source], now: datetime) -> None:
    """Make ``sources`` match the configuration: add new, update changed, deactivate the rest.

    A source whose configured URL changed gets its fetch state's URL, validators and
    "gone" mark reset, so an operator's fix takes effect on the next run.
    """
    stamp = to_iso(now)
    wanted = {source.id: source for source in sources}
    existing = {row[0]: row for row in db.execute("SELECT id, url, active FROM sources").fetchall()}
    for source in wanted.values():
        tags = json.dumps(list(source.tags))
        if source.id not in existing:
            db.execute(
                "INSERT INTO sources (id, kind, name, url, tags, active, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                [source.id, source.kind, source.name, source.url, tags, stamp, stamp],
            )
            continue
        _id, old_url, _active = existing[source.id]
        db.execute(
            "UPDATE sources SET kind = ?, name = ?, url = ?, tags = ?, active = 1,"
            " updated_at = CASE WHEN url IS ? AND active = 1 THEN updated_at ELSE ? END WHERE id = ?",
            [source.kind, source.name, source.url, tags, source.url, stamp, source.id],
        )
        if old_url != source.url:
            db.execute(
                "UPDATE fetch_state SET url = NULL, etag = NULL, last_modified = NULL, content_hash = NULL,"
                " gone_at = NULL, next_due_at = NULL WHERE source_id = ?",
                [source.id],
            )
    gone = [source_id for source_id in existing if source_id not in wanted]
    for source_id in gone:
        db.execute("UPDATE sources SET active = 0, updated_at = ? WHERE id = ? AND active = 1", [stamp, source_id])


def _row_to_state(row: dict[str, Any]) -> FetchState:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(FetchState):
        value = row.get(f.name)
        values[f.name] = from_iso(value) if f.name in _TIME_FIELDS else value
    return FetchState(**values)


def get_states(db: Database) -> dict[str, FetchState]:
    cursor = db.execute("SELECT * FROM fetch_state")
    names = [d[0] for d in cursor.description]
    return {row[0]: _row_to_state(dict(zip(names, row))) for row in cursor.fetchall()}


def get_state(db: Database, source_id: str) -> FetchState:
    cursor = db.execute("SELECT * FROM fetch_state WHERE source_id = ?", [source_id])
    row = cursor.fetchone()
    if row is None:
        return FetchState(source_id=source_id)
    return _row_to_state(dict(zip([d[0] for d in cursor.description], row)))


def put_state(db: Database, state: FetchState) -> None:
    """Insert or replace the whole fetch state of one source."""
    values = {
        f.name: (to_iso(getattr(state, f.name)) if f.name in _TIME_FIELDS else getattr(state, f.name))
        for f in dataclasses.fields(FetchState)
    }
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT OR REPLACE INTO fetch_state ({columns}) VALUES ({marks})", list(values.values()))


@dataclass(frozen=True)
class Run:
    """One row of ``runs``: what one collection run did for one source."""

    cycle_id: str
    source_id: str
    started_at: datetime
    ended_at: datetime
    status: str  # ok | not_modified | failed | skipped
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    seen: int = 0
    error: str | None = None


def add_run(db: Database, run: Run) -> None:
    db.execute(
        "INSERT INTO runs (cycle_id, source_id, started_at, ended_at, status, http_status, new, updated, seen, error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run.cycle_id, run.source_id, to_iso(run.started_at), to_iso(run.ended_at), run.status,
         run.http_status, run.new, run.updated, run.seen, run.error],
    )


def source_stats(db: Database) -> list[dict]:
    """Per source: item counts, the last run, and the polling state, for ``monitor stats``."""
    cursor = db.execute(
        """
        SELECT s.id, s.kind, s.name, s.active,
               (SELECT COUNT(*) FROM item_sources x WHERE x.source_id = s.id) AS items,
               (SELECT COUNT(*) FROM item_sources x JOIN items i ON i.id = x.item_id
                 WHERE x.source_id = s.id AND i.deleted_at IS NOT NULL) AS deleted,
               r.status AS last_status, r.started_at AS last_run_at, r.new AS last_new,
               r.updated AS last_updated, r.seen AS last_seen, r.error AS last_error,
               f.failures, f.next_due_at, f.last_success_at, f.gone_at, f.last_status AS last_http_status,
               f.last_error AS state_error
        FROM sources s
        LEFT JOIN runs r ON r.id = (SELECT MAX(id) FROM runs WHERE source_id = s.id)
        LEFT JOIN fetch_state f ON f.source_id = s.id
        ORDER BY s.active DESC, s.kind, s.name
        """
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Recheck:
    """One row of ``rechecks``: a re-check of stored items against their source for
    upstream deletions (``monitor recheck``)."""

    media: str
    started_at: datetime
    ended_at: datetime
    since: datetime
    checked: int = 0
    purged: int = 0
    authors_cleared: int = 0
    error: str | None = None


def add_recheck(db: Database, recheck: Recheck) -> None:
    db.execute(
        "INSERT INTO rechecks (media, started_at, ended_at, since, checked, purged, authors_cleared, error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [recheck.media, to_iso(recheck.started_at), to_iso(recheck.ended_at), to_iso(recheck.since),
         recheck.checked, recheck.purged, recheck.authors_cleared, recheck.error],
    )


def last_recheck(db: Database, media: str) -> Recheck | None:
    row = db.execute(
        "SELECT media, started_at, ended_at, since, checked, purged, authors_cleared, error FROM rechecks"
        " WHERE media = ? ORDER BY id DESC LIMIT 1", [media]
    ).fetchone()
    if row is None:
        return None
    return Recheck(row[0], from_iso(row[1]), from_iso(row[2]), from_iso(row[3]),  # type: ignore[arg-type]
                   row[4], row[5], row[6], row[7])

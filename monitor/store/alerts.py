"""Every query about alerts, and the ``alerts`` / ``alert_items`` tables. All alert SQL lives here.

Counting follows the digest (:data:`monitor.store.digest.ALIVE`): items deleted upstream
and Reddit comments are never counted or alerted. Spike counts are one range scan of
the ``(relevant, published_at, ...)`` index, bucketed by window in SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlite_utils import Database

from monitor.alerts.health import Episode
from monitor.alerts.rules import Candidate
from monitor.store.db import json_object
from monitor.store.digest import ALIVE, ItemRow, _item_rows
from monitor.types import from_iso, to_iso

CHUNK = 500  # ids per IN (...) list


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


# --- priority rules -------------------------------------------------------------------------


def candidates(db: Database, *, collected_since: str | None = None,
               published: tuple[str, str] | None = None) -> list[Candidate]:
    """Items collected since ``collected_since`` (the rule check after a cycle), or
    published within ``published`` (a dry run), with their tags, in that order."""
    if collected_since is not None:  # ordered by the column it is searched by, so its index drives
        where, params, order = f"i.collected_at >= ? AND {ALIVE}", [collected_since], "i.collected_at"
    else:
        assert published is not None
        where, params = f"i.published_at >= ? AND i.published_at < ? AND {ALIVE}", list(published)
        order = "i.published_at"
    rows = db.execute(
        f"SELECT i.id, COALESCE(i.cluster_id, i.id), i.relevant FROM items i WHERE {where} ORDER BY {order}, i.id",
        params).fetchall()
    tags: dict[str, dict[str, set[str]]] = {}
    for item_id, kind, value in db.execute(
            f"SELECT t.item_id, t.kind, t.value FROM item_tags t WHERE t.item_id IN (SELECT i.id FROM items i"
            f" WHERE {where})", params):
        tags.setdefault(item_id, {}).setdefault(kind, set()).add(value.casefold())
    return [Candidate(item_id, story, None if relevant is None else bool(relevant),
                      {kind: frozenset(values) for kind, values in tags.get(item_id, {}).items()})
            for item_id, story, relevant in rows]


def has_search_index(db: Database) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'items_fts'").fetchone() is not None


def query_hits(db: Database, query: str, item_ids: Sequence[str]) -> frozenset[str]:
    """Which of ``item_ids`` the full-text ``query`` matches (``items_fts MATCH``, FTS5 over
    title and text). New items are at the end of the index (rowids grow), so the match is
    asked from the candidates' lowest rowid on (FTS5 then reads only the tail of each
    term's list, not all history) and intersected with the candidates."""
    wanted = set(item_ids)
    if not wanted:
        return frozenset()
    low: int | None = None
    for chunk in _chunks(list(wanted)):
        (least,) = db.execute(f"SELECT MIN(rowid) FROM items WHERE id IN ({_marks(chunk)})", list(chunk)).fetchone()
        if least is not None and (low is None or least < low):
            low = least
    if low is None:
        return frozenset()
    return frozenset(item_id for (item_id,) in db.execute(
        "SELECT i.id FROM items_fts JOIN items i ON i.rowid = items_fts.rowid"
        " WHERE items_fts MATCH ? AND items_fts.rowid >= ?", [query, low]) if item_id in wanted)


def alerted_stories(db: Database, channel: str, stories: Sequence[str]) -> set[str]:
    """The stories already alerted by a rule on ``channel``."""
    found: set[str] = set()
    for chunk in _chunks(list(stories)):
        found.update(key for (key,) in db.execute(
            f"SELECT key FROM alerts WHERE kind = 'rule' AND channel = ? AND key IN ({_marks(chunk)})",
            [channel, *chunk]))
    return found


def alerted_items(db: Database, channel: str, item_ids: Sequence[str]) -> set[str]:
    """Which of ``item_ids`` a rule alert on ``channel`` already covered (a spike listing
    a story says how much is published, not that the story matters: a rule may still)."""
    found: set[str] = set()
    for chunk in _chunks(list(item_ids)):
        found.update(item_id for (item_id,) in db.execute(
            "SELECT DISTINCT x.item_id FROM alert_items x JOIN alerts a ON a.id = x.alert_id WHERE a.kind = 'rule'"
            f" AND x.channel = ? AND x.item_id IN ({_marks(chunk)})", [channel, *chunk]))
    return found


def story_copies(db: Database, stories: Sequence[str]) -> dict[str, list[str]]:
    """Every stored copy (item id) of each story: its cluster's items, or the item alone."""
    copies: dict[str, list[str]] = {story: [] for story in stories}
    for chunk in _chunks(list(stories)):
        marks = _marks(chunk)
        for item_id, story in db.execute(
                f"SELECT i.id, COALESCE(i.cluster_id, i.id) FROM items i WHERE (i.cluster_id IN ({marks})"
                f" OR i.id IN ({marks})) AND {ALIVE} ORDER BY i.published_at, i.id", [*chunk, *chunk]):
            if story in copies:
                copies[story].append(item_id)
    return copies


# --- spikes ---------------------------------------------------------------------------------


def series_counts(db: Database, now: datetime, window_seconds: int, windows: int
                  ) -> dict[tuple[str, str | None], dict[int, int]]:
    """Relevant items per (topic, None) and (topic, platform), per window: window ``k``
    is ``[now - (k+1)w, now - kw)``, for k = 0 .. windows-1. One range scan of the
    ``(relevant, published_at, ...)`` index per query; an item counts once per series."""
    end = to_iso(now)
    start = to_iso(datetime.fromtimestamp(now.timestamp() - windows * window_seconds, tz=now.tzinfo))
    bucket = "(CAST(strftime('%s', ?) AS INTEGER) - CAST(strftime('%s', i.published_at) AS INTEGER) - 1) / ?"
    scan = f"i.relevant = 1 AND i.published_at >= ? AND i.published_at < ? AND {ALIVE}"
    counts: dict[tuple[str, str | None], dict[int, int]] = {}
    for n, topic, count in db.execute(
            f"SELECT {bucket} AS n, t.value, COUNT(*) FROM items i CROSS JOIN item_tags t WHERE {scan}"
            " AND t.item_id = i.id AND t.kind = 'topic' GROUP BY n, t.value",
            [end, window_seconds, start, end]):
        counts.setdefault((topic, None), {})[n] = count
    for n, topic, platform, count in db.execute(
            f"SELECT {bucket} AS n, t.value, p.value, COUNT(*) FROM items i CROSS JOIN item_tags t"
            f" CROSS JOIN item_tags p WHERE {scan} AND t.item_id = i.id AND t.kind = 'topic'"
            " AND p.item_id = i.id AND p.kind = 'platform' GROUP BY n, t.value, p.value",
            [end, window_seconds, start, end]):
        counts.setdefault((topic, platform), {})[n] = count
    return counts


def series_items(db: Database, span: tuple[str, str], topic: str, platform: str | None) -> list[tuple[str, str]]:
    """(item id, story) of the relevant items of one series in ``span``, newest first."""
    where = (f"i.relevant = 1 AND i.published_at >= ? AND i.published_at < ? AND {ALIVE}"
             " AND EXISTS (SELECT 1 FROM item_tags t WHERE t.item_id = i.id AND t.kind = 'topic' AND t.value = ?)")
    params: list[Any] = [*span, topic]
    if platform is not None:
        where += (" AND EXISTS (SELECT 1 FROM item_tags p WHERE p.item_id = i.id AND p.kind = 'platform'"
                  " AND p.value = ?)")
        params.append(platform)
    return db.execute(f"SELECT i.id, COALESCE(i.cluster_id, i.id) FROM items i WHERE {where}"
                      " ORDER BY i.published_at DESC, i.id", params).fetchall()


def last_spike_at(db: Database, series: str) -> datetime | None:
    row = db.execute("SELECT MAX(created_at) FROM alerts WHERE kind = 'spike' AND series = ?", [series]).fetchone()
    return from_iso(row[0]) if row else None


def monitoring_started(db: Database) -> datetime | None:
    """When the first source was added: windows before it hold no data, only gaps."""
    row = db.execute("SELECT MIN(created_at) FROM sources").fetchone()
    return from_iso(row[0]) if row else None


# --- source health --------------------------------------------------------------------------


def open_episodes(db: Database) -> dict[str, Episode]:
    """Each source whose latest health alert is a problem (not a recovery)."""
    episodes = {}
    for source_id, state, detail, created in db.execute(
            "SELECT a.source_id, a.state, a.detail, a.created_at FROM alerts a"
            " WHERE a.kind = 'health' AND a.id = (SELECT MAX(b.id) FROM alerts b WHERE b.kind = 'health'"
            " AND b.source_id = a.source_id)"):
        if state == "recovered":
            continue
        info = json_object(detail)
        episodes[source_id] = Episode(source_id, str(info.get("name") or source_id), state,
                                      from_iso(info.get("since")), from_iso(created))  # type: ignore[arg-type]
    return episodes


# --- the alerts table -----------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRecord:
    """A row of ``alerts``."""

    id: int
    kind: str
    key: str
    channel: str
    rule: str | None
    series: str | None
    source_id: str | None
    state: str | None
    title: str
    detail: dict[str, Any]
    items: tuple[str, ...]
    created_at: datetime
    status: str
    message_id: str | None
    attempts: int
    last_attempt_at: datetime | None
    last_error: str | None
    send_started_at: str | None
    sending_pid: int | None
    sending_host: str | None
    sending_token: str | None
    sent_at: datetime | None


_COLUMNS = ("id, kind, key, channel, rule, series, source_id, state, title, detail, items, created_at, status,"
            " message_id, attempts, last_attempt_at, last_error, send_started_at, sending_pid, sending_host,"
            " sending_token, sent_at")


def _record(row: Sequence[Any]) -> AlertRecord:
    values = list(row)
    values[9] = json_object(values[9])
    try:
        values[10] = tuple(json.loads(values[10] or "[]"))
    except ValueError:
        values[10] = ()
    values[11] = from_iso(values[11])
    values[15] = from_iso(values[15])
    values[21] = from_iso(values[21])
    return AlertRecord(*values)


def insert_alert(db: Database, *, kind: str, key: str, channel: str, title: str, created_at: datetime,
                 rule: str | None = None, series: str | None = None, source_id: str | None = None,
                 state: str | None = None, detail: dict[str, Any] | None = None, items: Sequence[str] = (),
                 covers: Sequence[str] = ()) -> int | None:
    """Record a pending alert; None when one with the same (kind, channel, key) exists.
    ``covers`` = every item it covers (all copies), so none is alerted again."""
    cursor = db.execute(
        "INSERT INTO alerts (kind, key, channel, rule, series, source_id, state, title, detail, items, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, channel, key) DO NOTHING",
        [kind, key, channel, rule, series, source_id, state, title,
         json.dumps(detail or {}, ensure_ascii=False, sort_keys=True), json.dumps(list(items)), to_iso(created_at)])
    if cursor.rowcount != 1:
        return None
    alert_id = cursor.lastrowid
    db.conn.executemany("INSERT OR IGNORE INTO alert_items (item_id, alert_id, channel) VALUES (?, ?, ?)",
                        [(item_id, alert_id, channel) for item_id in dict.fromkeys([*items, *covers])])
    return alert_id


def unsent(db: Database) -> list[AlertRecord]:
    """Alerts not yet sent (pending, or left 'sending' by a sender), oldest first."""
    return [_record(row) for row in db.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE status != 'sent' ORDER BY id")]


def get(db: Database, ids: Sequence[int]) -> list[AlertRecord]:
    return [_record(row) for row in db.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE id IN ({_marks(ids)}) ORDER BY id", list(ids))]


def mark_sending(db: Database, ids: Sequence[int], *, message_id: str, now: datetime, pid: int, host: str,
                 token: str) -> None:
    db.execute(
        f"UPDATE alerts SET status = 'sending', message_id = ?, send_started_at = ?, sending_pid = ?,"
        f" sending_host = ?, sending_token = ?, attempts = attempts + 1, last_attempt_at = ?"
        f" WHERE id IN ({_marks(ids)})", [message_id, to_iso(now), pid, host, token, to_iso(now), *ids])


def mark_sent(db: Database, ids: Sequence[int], now: datetime) -> None:
    db.execute(
        f"UPDATE alerts SET status = 'sent', sent_at = ?, last_error = NULL, sending_pid = NULL,"
        f" sending_host = NULL, sending_token = NULL WHERE id IN ({_marks(ids)})", [to_iso(now), *ids])


def mark_failed(db: Database, ids: Sequence[int], error: str) -> None:
    """A delivery that certainly did not go out: pending again (same message), with the error."""
    db.execute(
        f"UPDATE alerts SET status = 'pending', last_error = ?, sending_pid = NULL, sending_host = NULL,"
        f" sending_token = NULL WHERE id IN ({_marks(ids)})", [error, *ids])


def listing(db: Database, since: datetime | None, limit: int) -> list[AlertRecord]:
    """Alerts created since ``since`` (all when None), newest first, at most ``limit``."""
    return [_record(row) for row in db.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?",
        [to_iso(since) if since else "", limit])]


def item_rows(db: Database, item_ids: Sequence[str]) -> tuple[list[ItemRow], dict[str, str]]:
    """The listed items and every copy of their stories (alive), with cluster headlines."""
    if not item_ids:
        return [], {}
    ids = list(item_ids)
    rows: list[ItemRow] = []
    titles: dict[str, str] = {}
    for chunk in _chunks(ids):
        marks = _marks(chunk)
        stories = (f"SELECT COALESCE(x.cluster_id, x.id) FROM items x WHERE x.id IN ({marks})")
        rows += _item_rows(db, f"(i.id IN ({marks}) OR i.cluster_id IN ({stories})) AND {ALIVE}",
                           [*chunk, *chunk])
        titles.update(db.execute(f"SELECT id, title FROM clusters WHERE id IN ({stories})", list(chunk)).fetchall())
    unique = {row.id: row for row in rows}
    return list(unique.values()), titles

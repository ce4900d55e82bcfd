"""Every query the daily digest needs, and the ``digests`` table. All digest SQL lives here.

Each query reads only the window it needs (through the ``published_at`` and
``(relevant, published_at)`` indexes) and aggregates per day in SQL, so a digest over
a database of a million items stays well under a second. Deleted items
(``deleted_at`` set) never appear. Results are plain frozen dataclasses for the pure
builder in :mod:`monitor.digest.build`; windows come in as ``(start, end)`` UTC
ISO strings, half-open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

from sqlite_utils import Database

from monitor.store.db import json_object
from monitor.types import from_iso, media_of, to_iso

Span = tuple[str, str]  # [start, end) as UTC ISO strings

# What the digest counts: items not deleted upstream, and not Reddit comments (fullname
# t1_...: context fetched for relevant posts, not posts of their own). Both columns are
# in the (relevant, published_at, ...) index, so the counts stay index-only.
ALIVE = "i.deleted_at IS NULL AND i.id NOT GLOB 't1_*'"
# One story per syndication cluster (or item told once), as the digest builder groups
# them (monitor.digest.build.family): Reddit threads and contributions in Parliament in
# a news story's cluster are stories of their own, never the news story.
STORY_KEY = ("(CASE WHEN i.media IN ('reddit', 'parliament') THEN i.media || ':' ELSE '' END"
             " || COALESCE(i.cluster_id, i.id))")


@dataclass(frozen=True)
class ItemRow:
    """A relevant item of the day (or a copy of one of its stories), with its tags.

    ``topics`` keeps the tagger's order (its main topic first); ``feed_name`` is the
    first news feed that carried the item, the best outlet name when the item was
    first stored from a news search.
    """

    id: str
    media: str
    url: str | None
    title: str
    text: str
    summary_html: str
    published_at: datetime
    relevant: bool | None
    cluster_id: str | None
    popularity: int | None
    comments: int | None
    extra: dict[str, Any]
    source_name: str
    source_kind: str
    feed_name: str | None
    topics: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    legislation: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterRow:
    id: str
    title: str
    size: int
    outlets: int
    first_published_at: datetime


@dataclass(frozen=True)
class StatisticRow:
    item_id: str
    value: str
    number: float | None
    unit: str
    sentence: str
    of: str | None = None  # "cases" in "37% of cases"


@dataclass(frozen=True)
class SourceRow:
    """One active source's polling state and item rhythm, for the health section.

    ``items`` is how many of its newest items were read for the rhythm (at most
    ``RHYTHM_ITEMS + 1``), ``usual_gap_hours`` the median gap between them (None with
    fewer than two), ``last_item_at`` its newest item.
    """

    id: str
    name: str
    kind: str
    created_at: datetime
    failures: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    next_due_at: datetime | None
    gone_at: datetime | None
    failing_since: datetime | None
    items: int
    usual_gap_hours: float | None
    last_item_at: datetime | None
    carried_recently: bool = False  # with no items of its own: still carried others' lately
    collected: bool = True  # anything ever collected from it: a success, a run that worked, an item
    last_run_error: str | None = None  # for a source never collected: its last run's error or skip note

    @property
    def media(self) -> str:
        return media_of(self.kind)


@dataclass(frozen=True)
class PlatformCounts:
    """Distinct grooming stories (a syndication cluster counts once) per period:
    ``totals[period]`` of all of them, ``by_platform[platform][period]`` naming each."""

    periods: tuple[str, ...]
    totals: dict[str, int]
    by_platform: dict[str, dict[str, int]]


@dataclass(frozen=True)
class DigestData:
    """Everything the digest shows, read in one consistent snapshot of the database."""

    days: tuple[Span, ...]  # the chart's days, oldest first; the last is the digest's day
    items: tuple[ItemRow, ...]  # relevant items of the day
    copies: tuple[ItemRow, ...]  # other items in the same syndication clusters
    clusters: dict[str, ClusterRow]
    statistics: tuple[StatisticRow, ...]
    # (day index, media, relevant) -> items; relevant is 1, 0 or None (not yet tagged)
    media_counts: dict[tuple[int, str, int | None], int]
    topic_counts: dict[tuple[int, str], int]  # (day index, topic) -> relevant items
    platform_day_counts: dict[tuple[int, str], int]  # (day index, platform) -> grooming stories
    platforms: PlatformCounts
    sources: tuple[SourceRow, ...]
    history_start: datetime | None  # the oldest item's publication time
    # relevant contributions in Parliament first collected in the day (see parliament_items)
    parliament: tuple[ItemRow, ...] = ()


def _days_cte(days: Sequence[Span]) -> tuple[str, list[str]]:
    values = ", ".join("(?, ?, ?)" for _ in days)
    params: list[Any] = []
    for index, (start, end) in enumerate(days):
        params += [index, start, end]
    return f"days(n, lo, hi) AS (VALUES {values})", params


_ITEM_COLUMNS = """
    i.id, i.media, i.url, i.title, i.text, i.summary_html, i.published_at, i.relevant, i.cluster_id,
    i.popularity, i.comments, i.extra, s.name, s.kind,
    (SELECT f.name FROM item_sources x JOIN sources f ON f.id = x.source_id
      WHERE x.item_id = i.id AND f.kind = 'feed' ORDER BY x.first_seen_at, f.name LIMIT 1)
"""


def _item_rows(db: Database, where: str, params: list[Any]) -> list[ItemRow]:
    """Items matching ``where`` (over ``items i``) with their tags, main topic first."""
    rows = db.execute(
        f"SELECT {_ITEM_COLUMNS} FROM items i JOIN sources s ON s.id = i.source_id WHERE {where}", params
    ).fetchall()
    tags: dict[str, dict[str, list[str]]] = {}
    for item_id, kind, value in db.execute(
        f"SELECT t.item_id, t.kind, t.value FROM item_tags t WHERE t.item_id IN"
        f" (SELECT i.id FROM items i WHERE {where}) AND t.kind IN ('topic', 'platform', 'legislation')"
        " ORDER BY t.item_id, t.rowid",
        params,
    ):
        tags.setdefault(item_id, {}).setdefault(kind, []).append(value)
    result = []
    for row in rows:
        found = tags.get(row[0], {})
        result.append(
            ItemRow(
                id=row[0], media=row[1], url=row[2], title=row[3], text=row[4], summary_html=row[5] or "",
                published_at=from_iso(row[6]),  # type: ignore[arg-type]
                relevant=None if row[7] is None else bool(row[7]), cluster_id=row[8], popularity=row[9],
                comments=row[10], extra=json_object(row[11]), source_name=row[12], source_kind=row[13],
                feed_name=row[14], topics=tuple(found.get("topic", ())),
                platforms=tuple(found.get("platform", ())), legislation=tuple(found.get("legislation", ())),
            )
        )
    return result


def relevant_items(db: Database, day: Span) -> list[ItemRow]:
    return _item_rows(db, f"i.relevant = 1 AND i.published_at >= ? AND i.published_at < ? AND {ALIVE}", list(day))


PARLIAMENT_LOOKBACK_DAYS = 7  # older sittings found by a first poll's look-back are not news


def parliament_items(db: Database, day: Span) -> list[ItemRow]:
    """Relevant contributions in Parliament that were first collected in the day,
    whatever their sitting date (Hansard publishes some debates days after they sat),
    unless the sitting was more than :data:`PARLIAMENT_LOOKBACK_DAYS` before the day.

    Chosen by collection time, each contribution appears in exactly one digest: the
    first built after it reached Hansard (and us).
    """
    start, end = day
    begins = from_iso(start)
    assert begins is not None
    since = to_iso(begins - timedelta(days=PARLIAMENT_LOOKBACK_DAYS))
    return _item_rows(
        db,
        "i.media = 'parliament' AND i.relevant = 1 AND i.collected_at >= ? AND i.collected_at < ?"
        f" AND i.published_at >= ? AND {ALIVE}",
        [start, end, since],
    )


def cluster_copies(db: Database, day: Span) -> tuple[list[ItemRow], dict[str, ClusterRow]]:
    """Every other item of the clusters that the day's relevant items belong to."""
    wanted = (
        "SELECT DISTINCT i.cluster_id FROM items i WHERE i.relevant = 1 AND i.published_at >= ?"
        f" AND i.published_at < ? AND i.cluster_id IS NOT NULL AND {ALIVE}"
    )
    copies = _item_rows(
        db,
        f"i.cluster_id IN ({wanted}) AND NOT (i.relevant = 1 AND i.published_at >= ? AND i.published_at < ?)"
        f" AND {ALIVE}",
        [*day, *day],
    )
    clusters = {
        row[0]: ClusterRow(row[0], row[1], row[2], row[3], from_iso(row[4]))  # type: ignore[arg-type]
        for row in db.execute(
            f"SELECT id, title, size, outlets, first_published_at FROM clusters WHERE id IN ({wanted})", list(day)
        )
    }
    return copies, clusters


def statistics(db: Database, day: Span) -> list[StatisticRow]:
    """Figures quoted in the day's relevant items, in the order they were found."""
    return [
        StatisticRow(*row)
        for row in db.execute(
            'SELECT st.item_id, st.value, st.number, st.unit, st.sentence, st."of" FROM item_statistics st'
            " WHERE st.item_id IN (SELECT i.id FROM items i WHERE i.relevant = 1 AND i.published_at >= ?"
            f" AND i.published_at < ? AND {ALIVE}) ORDER BY st.item_id, st.id",
            list(day),
        )
    ]


def media_counts(db: Database, days: Sequence[Span]) -> dict[tuple[int, str, int | None], int]:
    """Items per day, source type and relevance (1, 0, or None when not yet tagged).

    Irrelevant items, the bulk of what is collected, are counted for the last day
    only (the digest's own day: "out of N collected"). Each count is one range of the
    ``(relevant, published_at, media, deleted_at, ...)`` index, read from the index
    alone; three queries, because SQLite plans their UNION worse.
    """
    counts: dict[tuple[int, str, int | None], int] = {}
    last = len(days) - 1
    for relevant, test, spans, offset in ((1, "= 1", days, 0), (None, "IS NULL", days, 0),
                                          (0, "= 0", days[-1:], last)):
        cte, params = _days_cte(spans)
        for n, media, count in db.execute(
            f"WITH {cte} SELECT d.n, i.media, COUNT(*) FROM days d CROSS JOIN items i"
            f" WHERE i.relevant {test} AND i.published_at >= d.lo AND i.published_at < d.hi AND {ALIVE}"
            " GROUP BY d.n, i.media",
            params,
        ):
            counts[(n + offset, media, relevant)] = count
    return counts


def topic_counts(db: Database, days: Sequence[Span]) -> dict[tuple[int, str], int]:
    """Relevant items per day and topic (an item with two topics counts in both)."""
    cte, params = _days_cte(days)
    return {
        (n, topic): count
        for n, topic, count in db.execute(
            f"WITH {cte} SELECT d.n, t.value, COUNT(*) FROM days d CROSS JOIN items i CROSS JOIN item_tags t"
            f" WHERE i.relevant = 1 AND i.published_at >= d.lo AND i.published_at < d.hi AND {ALIVE}"
            " AND t.item_id = i.id AND t.kind = 'topic' GROUP BY d.n, t.value",
            params,
        )
    }


def _grooming_items(topics: Sequence[str], media: Sequence[str]) -> tuple[str, list[str]]:
    """Items of ``media`` tagged with any of ``topics`` (the platform shares' population)."""
    topic_marks = ", ".join("?" for _ in topics)
    media_marks = ", ".join("?" for _ in media)
    return (  # "+i.media": filter, never drive (the (relevant, published_at ...) index must)
        f"+i.media IN ({media_marks}) AND EXISTS (SELECT 1 FROM item_tags g WHERE g.item_id = i.id"
        f" AND g.kind = 'topic' AND g.value IN ({topic_marks}))",
        [*media, *topics],
    )


def platform_day_counts(db: Database, days: Sequence[Span], topics: Sequence[str], media: Sequence[str]
                        ) -> dict[tuple[int, str], int]:
    """Stories about ``topics`` naming each platform, per day (for the platform chart)."""
    cte, params = _days_cte(days)
    grooming, grooming_params = _grooming_items(topics, media)
    return {
        (n, platform): count
        for n, platform, count in db.execute(
            f"WITH {cte} SELECT d.n, p.value, COUNT(DISTINCT {STORY_KEY})"
            " FROM days d CROSS JOIN items i CROSS JOIN item_tags p"
            f" WHERE i.relevant = 1 AND i.published_at >= d.lo AND i.published_at < d.hi AND {ALIVE}"
            f" AND {grooming} AND p.item_id = i.id AND p.kind = 'platform'"
            " GROUP BY d.n, p.value",
            [*params, *grooming_params],
        )
    }


def platform_counts(db: Database, periods: dict[str, Span], topics: Sequence[str], media: Sequence[str]
                    ) -> PlatformCounts:
    """Distinct stories about ``topics`` per period, in all and naming each platform.

    Periods may overlap (today lies inside the last 28 days); one pass over the
    widest span counts them all: first one row per story (or per platform and story)
    with a 0/1 flag per period, then sums of the flags.
    """
    names = list(periods)
    low = min(span[0] for span in periods.values())
    high = max(span[1] for span in periods.values())
    flags = ", ".join(f"MAX(g.at >= ? AND g.at < ?) AS f{k}" for k in range(len(names)))
    flag_params = [bound for name in names for bound in periods[name]]
    sums = ", ".join(f"SUM(f{k})" for k in range(len(names)))
    condition, condition_params = _grooming_items(topics, media)
    grooming = (
        f"SELECT i.id, i.published_at AS at, {STORY_KEY} AS story FROM items i"
        f" WHERE i.relevant = 1 AND i.published_at >= ? AND i.published_at < ? AND {ALIVE} AND {condition}"
    )
    params = [*flag_params, low, high, *condition_params]  # in the order they appear in the SQL
    # two statements: SQLite runs them faster than one UNION over a shared CTE
    rows = db.execute(
        f"SELECT NULL, {sums} FROM (SELECT {flags} FROM ({grooming}) g GROUP BY g.story)", params
    ).fetchall()
    rows += db.execute(
        f"SELECT platform, {sums} FROM (SELECT p.value AS platform, {flags} FROM ({grooming}) g"
        " CROSS JOIN item_tags p WHERE p.item_id = g.id AND p.kind = 'platform' GROUP BY p.value, g.story)"
        " GROUP BY platform",
        params,
    ).fetchall()
    totals: dict[str, int] = dict.fromkeys(names, 0)
    by_platform: dict[str, dict[str, int]] = {}
    for platform, *counts in rows:
        values = {name: int(count or 0) for name, count in zip(names, counts)}
        if platform is None:
            totals = values
        else:
            by_platform[platform] = values
    return PlatformCounts(tuple(names), totals, by_platform)


RHYTHM_ITEMS = 50  # gaps between a source's newest items that give its usual rhythm


def median_gap_hours(times: Sequence[str]) -> float | None:
    """Median gap in hours between consecutive ISO times (any order); None for fewer than two."""
    moments = sorted(from_iso(t) for t in times)  # type: ignore[type-var]
    gaps = sorted((b - a).total_seconds() / 3600 for a, b in zip(moments, moments[1:]))  # type: ignore[operator]
    if not gaps:
        return None
    middle = len(gaps) // 2
    return gaps[middle] if len(gaps) % 2 else (gaps[middle - 1] + gaps[middle]) / 2


def source_rows(db: Database, history: Span) -> list[SourceRow]:
    """Active sources with their fetch state, when they started failing, and their rhythm:
    the median gap between their newest items published before the end of ``history``
    (at most :data:`RHYTHM_ITEMS` gaps, none older than ``history`` unless the source has
    nothing newer, so a source that died long ago still shows its old rhythm).

    The rhythm reads the items a source published first (``items.source_id``, through
    the ``(source_id, published_at)`` index, a bounded read per source); a source whose
    items all arrived first through another source (a news search repeating a feed)
    has no rhythm of its own and is never called silent for it.

    A source with no successful fetch on record is checked further (is any item or any
    run that worked on record?), so one that was never collected at all (no
    credentials, a cycle that never reaches it) can be told from one that was.
    """
    low, high = history
    result = []
    for row in db.execute(
        """
        SELECT s.id, s.name, s.kind, s.created_at, COALESCE(f.failures, 0), f.last_error, f.last_error_at,
               f.last_success_at, f.next_due_at, f.gone_at,
               CASE WHEN f.failures > 0 THEN
                 (SELECT MIN(r.started_at) FROM runs r WHERE r.source_id = s.id AND r.status = 'failed'
                   AND r.started_at > COALESCE(f.last_success_at, '')) END
        FROM sources s LEFT JOIN fetch_state f ON f.source_id = s.id
        WHERE s.active = 1 ORDER BY s.name
        """
    ).fetchall():
        newest = [t for (t,) in db.execute(
            "SELECT published_at FROM items WHERE source_id = ? AND published_at < ?"
            " ORDER BY published_at DESC LIMIT ?", [row[0], high, RHYTHM_ITEMS + 1])]
        recent = [t for t in newest if t >= low]
        times = recent if len(recent) >= 2 else newest
        carried = not newest and db.execute(
            "SELECT 1 FROM item_sources WHERE source_id = ? AND first_seen_at >= ? LIMIT 1", [row[0], low]
        ).fetchone() is not None
        collected, last_run_error = True, None
        if row[7] is None and not newest and not carried:
            collected = db.execute(
                "SELECT EXISTS (SELECT 1 FROM item_sources WHERE source_id = ?)"
                " OR EXISTS (SELECT 1 FROM runs WHERE source_id = ? AND status IN ('ok', 'not_modified'))",
                [row[0], row[0]],
            ).fetchone()[0] == 1
            if not collected:
                last = db.execute(
                    "SELECT error FROM runs WHERE source_id = ? ORDER BY started_at DESC, id DESC LIMIT 1", [row[0]]
                ).fetchone()
                last_run_error = last[0] if last else None
        result.append(
            SourceRow(
                id=row[0], name=row[1], kind=row[2], created_at=from_iso(row[3]),  # type: ignore[arg-type]
                failures=row[4], last_error=row[5], last_error_at=from_iso(row[6]),
                last_success_at=from_iso(row[7]), next_due_at=from_iso(row[8]), gone_at=from_iso(row[9]),
                failing_since=from_iso(row[10]) or from_iso(row[6]), items=len(times),
                usual_gap_hours=median_gap_hours(times), last_item_at=from_iso(newest[0]) if newest else None,
                carried_recently=carried, collected=collected, last_run_error=last_run_error,
            )
        )
    return result


def history_start(db: Database) -> datetime | None:
    row = db.execute(f"SELECT MIN(i.published_at) FROM items i WHERE {ALIVE}").fetchone()
    return from_iso(row[0]) if row else None


def read_digest_data(
    db: Database,
    days: Sequence[Span],
    platform_periods: dict[str, Span],
    platform_topics: Sequence[str],
    platform_media: Sequence[str],
    history: Span,
    platform_chart: bool = False,
) -> DigestData:
    """Run every digest query inside one read transaction (one consistent snapshot,
    even while the collector writes)."""
    conn = db.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        day = days[-1]
        items = relevant_items(db, day)
        copies, clusters = cluster_copies(db, day)
        return DigestData(
            days=tuple(days),
            items=tuple(items),
            copies=tuple(copies),
            clusters=clusters,
            statistics=tuple(statistics(db, day)),
            media_counts=media_counts(db, days),
            topic_counts=topic_counts(db, days),
            platform_day_counts=platform_day_counts(db, days, platform_topics, platform_media)
            if platform_chart else {},
            platforms=platform_counts(db, platform_periods, platform_topics, platform_media),
            sources=tuple(source_rows(db, history)),
            history_start=history_start(db),
            parliament=tuple(parliament_items(db, day)),
        )
    finally:
        if own:
            conn.execute("COMMIT")


# --- the digests table ------------------------------------------------------------------


@dataclass(frozen=True)
class DigestRecord:
    """A row of ``digests``: what was built and sent for one date."""

    date: str
    window_start: str
    window_end: str
    built_at: str
    subject: str
    html_path: str | None
    text_path: str | None
    chart_path: str | None
    relevant_items: int
    stories: int
    counts: dict[str, Any]
    status: str
    message_id: str | None
    send_started_at: str | None
    sending_pid: int | None
    sending_host: str | None
    sending_token: str | None
    attempts: int
    sent_at: str | None
    recipients: tuple[str, ...]
    send_error: str | None


_RECORD_COLUMNS = (
    "date, window_start, window_end, built_at, subject, html_path, text_path, chart_path, relevant_items, stories,"
    " counts, status, message_id, send_started_at, sending_pid, sending_host, sending_token, attempts, sent_at,"
    " recipients,"
    " send_error"
)


def get_record(db: Database, day: str) -> DigestRecord | None:
    row = db.execute(f"SELECT {_RECORD_COLUMNS} FROM digests WHERE date = ?", [day]).fetchone()
    if row is None:
        return None
    values = list(row)
    values[10] = json_object(values[10])
    values[19] = tuple(json.loads(values[19] or "[]"))
    return DigestRecord(*values)


def record_built(
    db: Database,
    *,
    day: str,
    span: Span,
    built_at: datetime,
    subject: str,
    paths: tuple[str | None, str | None, str | None],
    relevant: int,
    stories: int,
    counts: dict[str, Any],
) -> None:
    """Insert or refresh the build columns; the send columns of a row are kept."""
    db.execute(
        "INSERT INTO digests (date, window_start, window_end, built_at, subject, html_path, text_path, chart_path,"
        " relevant_items, stories, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (date) DO UPDATE SET window_start = excluded.window_start, window_end = excluded.window_end,"
        " built_at = excluded.built_at, subject = excluded.subject, html_path = excluded.html_path,"
        " text_path = excluded.text_path, chart_path = excluded.chart_path,"
        " relevant_items = excluded.relevant_items, stories = excluded.stories, counts = excluded.counts",
        [day, *span, to_iso(built_at), subject, *paths, relevant, stories,
         json.dumps(counts, ensure_ascii=False, sort_keys=True)],
    )


def mark_sending(db: Database, day: str, *, message_id: str, now: datetime, pid: int, host: str,
                 token: str) -> None:
    db.execute(
        "UPDATE digests SET status = 'sending', message_id = ?, send_started_at = ?, sending_pid = ?,"
        " sending_host = ?, sending_token = ?, attempts = attempts + 1, send_error = NULL WHERE date = ?",
        [message_id, to_iso(now), pid, host, token, day],
    )


def mark_sent(db: Database, day: str, *, now: datetime, recipients: Iterable[str], subject: str) -> None:
    db.execute(
        "UPDATE digests SET status = 'sent', sent_at = ?, recipients = ?, subject = ?, sending_pid = NULL,"
        " sending_host = NULL, sending_token = NULL, send_error = NULL WHERE date = ?",
        [to_iso(now), json.dumps(list(recipients), ensure_ascii=False), subject, day],
    )


def mark_send_failed(db: Database, day: str, *, error: str, previous_status: str) -> None:
    """A send that certainly did not go out: back to its previous status, with the error."""
    db.execute(
        "UPDATE digests SET status = ?, sending_pid = NULL, sending_host = NULL, sending_token = NULL,"
        " send_error = ? WHERE date = ?",
        [previous_status, error, day],
    )


def last_sent_date(db: Database) -> str | None:
    row = db.execute("SELECT MAX(date) FROM digests WHERE status = 'sent'").fetchone()
    return row[0] if row else None


def records(db: Database, limit: int = 30) -> list[DigestRecord]:
    """The newest ``limit`` rows of ``digests``, newest first (``monitor doctor``)."""
    days = [row[0] for row in db.execute("SELECT date FROM digests ORDER BY date DESC LIMIT ?", [limit])]
    return [record for record in (get_record(db, day) for day in days) if record is not None]

"""Full-text search over items (the ``items_fts`` FTS5 index, see schema 0009_search).

The query is FTS5 syntax: words (all must match), "exact phrases", OR, NOT,
NEAR(a b, 10), prefixes (groom*), column filters (title: ofcom) and parentheses.
Results are ranked by BM25 with title matches weighing ten times the text, or newest
(published) first. Ranking runs in two steps: the ids of the best ``limit`` matches first, then
details and a snippet for those only, because ``snippet()`` in the first query would
be computed for every match before sorting.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Literal

from sqlite_utils import Database

from monitor.errors import QueryError, StorageError
from monitor.store.filters import ItemFilter, where_clause

Order = Literal["rank", "newest"]
SNIPPET_TOKENS = 24
RANK_WINDOW = 10_000


@dataclass(frozen=True)
class Hit:
    """One matching item, with a snippet of its text around the match."""

    id: str
    published_at: str
    source_id: str
    source: str
    media: str
    title: str
    url: str | None
    relevant: bool | None
    score: float | None
    rank: float
    snippet: str
    topics: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    legislation: tuple[str, ...] = ()
    organisations: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in self.__dict__.items()}


_FTS_ERRORS = ("fts5:", "no such column", "unterminated string", "unknown special query")


def query_error(query: str, error: sqlite3.Error) -> QueryError | StorageError:
    message = str(error)
    if isinstance(error, sqlite3.OperationalError) and message.startswith(_FTS_ERRORS):
        message = message.removeprefix("fts5: ")
        if message.startswith("no such column"):
            message += " (column filters are title: or text:)"
        return QueryError(
            f"cannot search for {query!r}: {message}. Put words with punctuation in double quotes,"
            ' e.g. \'"37%"\' or \'"end-to-end"\''
        )
    return StorageError(f"search for {query!r} failed: {message}")


def _check_query(query: str) -> str:
    query = query.strip()
    if not query:
        raise QueryError("empty search query: give words, a \"phrase\", or an FTS5 expression")
    return query


@dataclass(frozen=True)
class SearchResult:
    """The hits, and whether ranking was limited to the newest matches (see :func:`search`)."""

    hits: list[Hit]
    ranked_within: int | None = None  # RANK_WINDOW when more items matched than were ranked


def search(
    db: Database,
    query: str,
    flt: ItemFilter = ItemFilter(),
    *,
    limit: int = 20,
    order: Order = "rank",
    mark: tuple[str, str] = ("[", "]"),
    window: int | None = None,
) -> SearchResult:
    """The best ``limit`` items matching ``query`` and ``flt``, best (or newest) first.

    Ordering costs a few microseconds per matching row (BM25 reads each row's size;
    newest-first reads each row's date), so when more than ``window`` (default
    :data:`RANK_WINDOW`) items match the query, only the ``window`` most recently
    collected of them are ordered, filters applied within them (``ranked_within``
    says so), unless the filters leave fewer than ``limit`` there. Exact for any
    query that matches fewer items; for newest-first, exact whenever items are
    collected after they are published.
    Raises :class:`QueryError` for a query FTS5 cannot parse, with a hint.
    """
    query = _check_query(query)
    window = RANK_WINDOW if window is None else window
    where, params = where_clause(flt)
    matching = f"FROM items_fts JOIN items AS i ON i.rowid = items_fts.rowid WHERE items_fts MATCH ? AND {where}"
    ordering = "items_fts.rank" if order == "rank" else "i.published_at DESC, i.rowid DESC"

    def best(floor: int | None) -> list[tuple[int, float]]:
        window_condition = " AND items_fts.rowid > ?" if floor is not None else ""
        return db.execute(
            f"SELECT items_fts.rowid, items_fts.rank {matching}{window_condition} ORDER BY {ordering} LIMIT ?",
            [query, *params, *([floor] if floor is not None else []), limit],
        ).fetchall()

    try:
        floor = None
        if window:  # the newest `window` matches of the query alone: a cheap walk of the index
            row = db.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid DESC"
                             " LIMIT 1 OFFSET ?", [query, window]).fetchone()
            floor = row[0] if row else None
        ranked = best(floor)
        if floor is not None and len(ranked) < limit:  # the filters left too few in the window
            floor = None
            ranked = best(None)
        details = _details(db, query, [rowid for rowid, _rank in ranked], mark)
    except sqlite3.Error as error:
        raise query_error(query, error) from None
    hits = [dataclasses.replace(details[rowid], rank=rank) for rowid, rank in ranked]
    return SearchResult(hits, window if floor is not None else None)


def _details(db: Database, query: str, rowids: list[int], mark: tuple[str, str]) -> dict[int, Hit]:
    """Columns, snippet and tags of the chosen rows, in one pass over the matches.

    One statement, not one per row: each FTS5 statement re-reads the query's doclists
    (for a prefix like groom* that is most of the cost), and bm25 would count every
    match again, so the rank comes from the ranking query instead.
    """
    if not rowids:
        return {}
    cursor = db.execute(
        "SELECT items_fts.rowid, i.id, i.published_at, i.source_id, coalesce(s.name, i.source_id), i.media,"
        f" i.title, i.url, i.relevant, i.score, snippet(items_fts, 1, ?, ?, '…', {SNIPPET_TOKENS})"
        " FROM items_fts JOIN items AS i ON i.rowid = items_fts.rowid"
        " LEFT JOIN sources AS s ON s.id = i.source_id"
        " WHERE items_fts MATCH ? AND items_fts.rowid BETWEEN ? AND ?"
        "   AND +items_fts.rowid IN (SELECT value FROM json_each(?))",
        [mark[0], mark[1], query, min(rowids), max(rowids), json.dumps(rowids)],
    )
    rows = {row[0]: row for row in cursor.fetchall()}
    tags: dict[str, dict[str, list[str]]] = {row[1]: {} for row in rows.values()}
    for item_id, kind, value in db.execute(
        "SELECT item_id, kind, value FROM item_tags WHERE item_id IN (SELECT value FROM json_each(?))"
        " ORDER BY item_id, kind, value",
        [json.dumps(list(tags))],
    ):
        tags[item_id].setdefault(kind, []).append(value)
    hits = {}
    for rowid, row in rows.items():
        found = tags[row[1]]
        hits[rowid] = Hit(
            id=row[1], published_at=row[2], source_id=row[3], source=row[4], media=row[5], title=row[6],
            url=row[7], relevant=None if row[8] is None else bool(row[8]), score=row[9], rank=0.0,
            snippet=row[10] or "", topics=tuple(found.get("topic", ())), platforms=tuple(found.get("platform", ())),
            legislation=tuple(found.get("legislation", ())), organisations=tuple(found.get("organisation", ())),
        )
    return hits


def validate_query(db: Database, query: str) -> str:
    """``query`` if FTS5 accepts it, else a :class:`QueryError` saying how to fix it.

    Callers that stream results (export) check first, so a bad query never leaves a
    half-written file or a header with nothing under it."""
    query = _check_query(query)
    try:
        db.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ? LIMIT 1", [query]).fetchall()
    except sqlite3.Error as error:
        raise query_error(query, error) from None
    return query


def count_matches(db: Database, query: str, flt: ItemFilter = ItemFilter()) -> int:
    """How many items match ``query`` and ``flt`` (for "how many ... since ..." questions)."""
    query = _check_query(query)
    where, params = where_clause(flt)
    try:
        return db.execute(
            "SELECT count(*) FROM items_fts JOIN items AS i ON i.rowid = items_fts.rowid"
            f" WHERE items_fts MATCH ? AND {where}",
            [query, *params],
        ).fetchone()[0]
    except sqlite3.Error as error:
        raise query_error(query, error) from None


def resolve_sources(db: Database, names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Source ids for names or ids as a user typed them (case-insensitive)."""
    rows = db.execute("SELECT id, name FROM sources ORDER BY name").fetchall()
    found: list[str] = []
    for name in names:
        key = name.casefold()
        ids = [sid for sid, sname in rows if key in (sid.casefold(), sname.casefold())]
        if not ids:
            known = ", ".join(sname for _sid, sname in rows) or "none yet"
            raise QueryError(f"no source named {name!r} (sources: {known})")
        found.extend(ids)
    return tuple(dict.fromkeys(found))


def check_tag_values(db: Database, kind: str, values: tuple[str, ...]) -> None:
    """Refuse a tag value no item has (a typo would otherwise just find nothing)."""
    for value in values:
        if db.execute("SELECT 1 FROM item_tags WHERE kind = ? AND value = ? LIMIT 1", [kind, value]).fetchone():
            continue
        known = [row[0] for row in db.execute("SELECT DISTINCT value FROM item_tags WHERE kind = ? ORDER BY 1",
                                              [kind])]
        raise QueryError(f"no item is tagged {kind} {value!r} ({kind} values in the database: "
                         f"{', '.join(known) or 'none yet'})")


def rebuild_index(db: Database) -> None:
    """Rebuild ``items_fts`` from the live items (after a bulk load done without the
    triggers). FTS5's own 'rebuild' would index deleted items too."""
    db.execute("INSERT INTO items_fts (items_fts) VALUES ('delete-all')")
    db.execute("INSERT INTO items_fts (rowid, title, text) SELECT rowid, title, text FROM items"
               " WHERE deleted_at IS NULL")

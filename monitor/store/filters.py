"""Which items: the filters `monitor search` and `monitor export` share, as SQL.

:class:`ItemFilter` is plain data; :func:`where_clause` turns it into a ``WHERE``
fragment over ``items AS i`` with its parameters. Items deleted upstream (their
content purged) are always left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from monitor.errors import QueryError
from monitor.types import from_iso, to_iso

@dataclass(frozen=True)
class ItemFilter:
    """Conditions on items; empty tuples and None mean "any".

    ``since`` / ``until`` are UTC bounds on ``published_at`` as stored strings: use
    :func:`lower_bound` / :func:`upper_bound` to make them from what a user typed.
    Several values of one kind (two platforms) match items with any of them.
    """

    since: str | None = None
    until: str | None = None  # exclusive
    topics: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    legislation: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()
    media: tuple[str, ...] = ()
    relevant_only: bool = False
    match: str | None = None  # a full-text query (FTS5 syntax)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse(value: str, what: str) -> date | datetime:
    text = value.strip()
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
        moment = from_iso(text)
    except ValueError:
        moment = None
    if moment is None:
        raise QueryError(f"{what}: {value!r} is not a date (YYYY-MM-DD) or an ISO-8601 time")
    return moment


def lower_bound(value: str) -> str:
    """``published_at >=`` this: the start of a day (``2024-05-01``) or an exact time."""
    parsed = _parse(value, "since")
    if isinstance(parsed, datetime):
        return to_iso(parsed) or ""
    return parsed.isoformat()


def upper_bound(value: str) -> str:
    """``published_at <`` this: the day after a date (``--until`` includes its whole
    day), or just after an exact time."""
    parsed = _parse(value, "until")
    if isinstance(parsed, datetime):
        return to_iso(parsed + timedelta(seconds=1)) or ""
    return (parsed + timedelta(days=1)).isoformat()


def _tag_condition(kind: str, values: tuple[str, ...], params: list[object]) -> str:
    marks = ", ".join("?" for _ in values)
    params.append(kind)
    params.extend(values)
    return f"EXISTS (SELECT 1 FROM item_tags AS ft WHERE ft.item_id = i.id AND ft.kind = ? AND ft.value IN ({marks}))"


def where_clause(flt: ItemFilter) -> tuple[str, list[object]]:
    """(``"cond AND cond ..."``, params) over ``items AS i``. Never empty."""
    conditions = ["i.deleted_at IS NULL"]
    params: list[object] = []
    if flt.since:
        conditions.append("i.published_at >= ?")
        params.append(flt.since)
    if flt.until:
        conditions.append("i.published_at < ?")
        params.append(flt.until)
    if flt.relevant_only:
        conditions.append("i.relevant = 1")
    if flt.media:
        conditions.append(f"i.media IN ({', '.join('?' for _ in flt.media)})")
        params.extend(flt.media)
    if flt.source_ids:
        marks = ", ".join("?" for _ in flt.source_ids)
        conditions.append(
            f"(i.source_id IN ({marks}) OR EXISTS (SELECT 1 FROM item_sources AS fs"
            f" WHERE fs.item_id = i.id AND fs.source_id IN ({marks})))"
        )
        params.extend(flt.source_ids)
        params.extend(flt.source_ids)
    for kind, values in (("topic", flt.topics), ("platform", flt.platforms), ("legislation", flt.legislation)):
        if values:
            conditions.append(_tag_condition(kind, values, params))
    if flt.match:
        conditions.append("i.rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
        params.append(flt.match)
    return " AND ".join(conditions), params

"""Items with their tags, one flat record each, for spreadsheets and other programs.

Rows stream from one cursor in publication order, so exporting a million items needs
no more memory than one row. Tag lists come out as Python lists (the writers turn them
into ``a; b`` for CSV and arrays for JSON).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Iterator

from sqlite_utils import Database

from monitor.errors import StorageError
from monitor.store.filters import ItemFilter, where_clause
from monitor.store.search import query_error

COLUMNS = (
    "id", "published_at", "collected_at", "media", "source", "outlets", "title", "url", "author",
    "relevant", "score", "topics", "platforms", "legislation", "organisations", "figures",
    "cluster_id", "popularity", "comments",
)
LIST_COLUMNS = frozenset({"outlets", "topics", "platforms", "legislation", "organisations", "figures"})


def _tags(kind: str) -> str:
    return (f"(SELECT json_group_array(t.value) FROM item_tags AS t WHERE t.item_id = i.id"
            f" AND t.kind = '{kind}') AS {kind if kind == 'legislation' else kind + 's'}")


def export_columns(with_text: bool = False) -> tuple[str, ...]:
    return COLUMNS + ("text",) if with_text else COLUMNS


def export_rows(db: Database, flt: ItemFilter = ItemFilter(), *, with_text: bool = False) -> Iterator[dict]:
    """Every item matching ``flt``, oldest first, as a dict with :func:`export_columns` keys."""
    where, params = where_clause(flt)
    sql = (
        "SELECT i.id, i.published_at, i.collected_at, i.media, coalesce(s.name, i.source_id) AS source,"
        " (SELECT json_group_array(coalesce(os.name, x.source_id)) FROM item_sources AS x"
        "   LEFT JOIN sources AS os ON os.id = x.source_id WHERE x.item_id = i.id) AS outlets,"
        " i.title, i.url, i.author, i.relevant, i.score, "
        + ", ".join(_tags(kind) for kind in ("topic", "platform", "legislation", "organisation"))
        # Figures are kept for every item, but only a relevant item's are ones to cite.
        + ", (SELECT json_group_array(st.value) FROM item_statistics AS st WHERE st.item_id = i.id"
        " AND i.relevant = 1) AS figures,"
        " i.cluster_id, i.popularity, i.comments"
        + (", i.text" if with_text else "")
        + f" FROM items AS i LEFT JOIN sources AS s ON s.id = i.source_id WHERE {where}"
        " ORDER BY i.published_at, i.id"
    )
    try:
        cursor = db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        for row in cursor:
            record = dict(zip(names, row))
            for column in LIST_COLUMNS:
                record[column] = json.loads(record[column]) if record[column] else []
            if record["relevant"] is not None:
                record["relevant"] = bool(record["relevant"])
            yield record
    except sqlite3.Error as error:
        if flt.match:
            raise query_error(flt.match, error) from None
        raise StorageError("export failed") from error

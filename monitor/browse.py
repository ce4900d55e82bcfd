"""``monitor browse``: Datasette over the database, read-only, on 127.0.0.1.

The metadata is built from our own catalogue (:mod:`monitor.store.catalog`): titled
and described tables and views, full-text search on items, and the saved queries in
``db/queries`` as canned queries. Datasette is an optional extra (``.[browse]``).

The database is served *mutable* (``mode=ro`` connections), not ``--immutable``: the
collector keeps writing to it in WAL mode, and immutable mode would let Datasette read
pages mid-write. Datasette's read connections cannot write, and without write plugins
or ``write: true`` canned queries nothing in it ever opens a writing one.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any, Sequence

from monitor.errors import MonitorError
from monitor.queries import SavedQuery
from monitor.store.catalog import HIDDEN, TABLES

HOST = "127.0.0.1"
DEFAULT_PORT = 8001

# Views aggregate up to a million items: give a query more than Datasette's default 1 s,
# and skip facet suggestions (a dozen extra queries per page view).
SETTINGS = {
    "sql_time_limit_ms": 5000,
    "facet_time_limit_ms": 1000,
    "suggest_facets": False,
    "default_page_size": 50,
    "allow_download": False,
}

_HEADER = re.compile(r"\s*/\*.*?\*/\s*", re.DOTALL)


def metadata(db_name: str, queries: Sequence[SavedQuery]) -> dict[str, Any]:
    """Datasette metadata for the database served as ``db_name``."""
    tables: dict[str, Any] = {name: {"title": entry.title, "description": entry.description}
                              for name, entry in TABLES.items()}
    tables["items"].update({
        "fts_table": "items_fts",
        "fts_pk": "rowid",
        "searchmode": "raw",
        "sort_desc": "published_at",
        "label_column": "title",
        "facets": ["media", "relevant"],
    })
    tables["sources"]["label_column"] = "name"
    tables["relevant_items"]["sort_desc"] = "published_at"
    tables["tagged_items"].update({"sort_desc": "published_at",
                                   "facets": [{"array": "topics"}, {"array": "platforms"}]})
    tables["source_health"]["facets"] = ["health"]
    for name in HIDDEN:
        tables.setdefault(name, {})["hidden"] = True
    canned = {
        query.name: {
            "title": query.title,
            "description": query.description,
            "sql": _HEADER.sub("", query.sql, count=1).strip(),
        }
        for query in queries
    }
    return {
        "title": "monitor: what the news and Reddit say about online child grooming",
        "description": (
            "Everything the monitor collected, read-only. Search items with FTS5 syntax, open a view, "
            "or run one of the saved queries below."
        ),
        "databases": {db_name: {"tables": tables, "queries": canned}},
    }


def datasette_args(db_path: Path, metadata_path: Path, port: int) -> list[str]:
    """``datasette serve`` arguments: one database, bound to 127.0.0.1, our settings."""
    args = ["serve", str(db_path), "--host", HOST, "--port", str(port), "--metadata", str(metadata_path)]
    for key, value in SETTINGS.items():
        args += ["--setting", key, json.dumps(value) if isinstance(value, bool) else str(value)]
    return args


def serve(db_path: Path, queries: Sequence[SavedQuery], *, port: int = DEFAULT_PORT) -> None:
    """Run Datasette in this process until interrupted."""
    try:
        from datasette.cli import cli as datasette_cli
    except ImportError:
        raise MonitorError(
            "monitor browse needs Datasette, which is not installed: pip install -e '.[browse]'"
        ) from None
    with tempfile.TemporaryDirectory(prefix="monitor-browse-") as folder:
        metadata_path = Path(folder) / "metadata.json"
        metadata_path.write_text(json.dumps(metadata(db_path.stem, queries), indent=2), encoding="utf-8")
        datasette_cli.main(args=datasette_args(db_path, metadata_path, port), prog_name="datasette",
                           standalone_mode=False)

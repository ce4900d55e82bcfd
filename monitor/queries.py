"""The team's saved queries: ``db/queries/*.sql``, each a plain SQL file that opens with

    /* title: Which outlets quoted a figure this month
       description: One row per outlet and item quoting the figure, as written
         (e.g. 37%), since the first of this month. */

(a line without ``name:`` continues the field above it). The same files run with
``sqlite-utils query db/monitor.db "$(cat db/queries/NAME.sql)" -p figure 37%`` and
become Datasette canned queries in ``monitor browse``. The header is a block comment,
not ``--`` lines, because a command-line argument starting with ``--`` would be taken
for an option by sqlite-utils.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import QueryError

_HEADER = re.compile(r"\s*/\*(.*?)\*/", re.DOTALL)
_FIELD = re.compile(r"(title|description)\s*:\s*(.*)$", re.IGNORECASE)
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class SavedQuery:
    name: str  # the file name without .sql
    title: str
    description: str
    sql: str
    path: Path

    @property
    def parameters(self) -> tuple[str, ...]:
        """Named parameters (``:figure``) in order of first use, outside strings and comments."""
        code = re.sub(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", "", self.sql, flags=re.DOTALL)
        return tuple(dict.fromkeys(_PARAM.findall(code)))


def parse_saved_query(path: Path) -> SavedQuery:
    """Read one saved query; its title and description are required."""
    sql = path.read_text(encoding="utf-8")
    fields: dict[str, list[str]] = {}
    header = _HEADER.match(sql)
    current: str | None = None
    for line in (header[1] if header else "").splitlines():
        stripped = line.strip()
        match = _FIELD.match(stripped)
        if match:
            current = match[1].lower()
            fields[current] = [match[2].strip()]
        elif current and stripped:
            fields[current].append(stripped)
    missing = [name for name in ("title", "description") if not " ".join(fields.get(name, [])).strip()]
    if missing:
        raise QueryError(f"{path}: the opening /* ... */ comment needs {' and '.join(f'{m}:' for m in missing)}")
    return SavedQuery(name=path.stem, title=" ".join(fields["title"]), description=" ".join(fields["description"]),
                      sql=sql, path=path)


def load_saved_queries(folder: Path) -> list[SavedQuery]:
    """Every ``*.sql`` in ``folder``, by name."""
    return [parse_saved_query(path) for path in sorted(folder.glob("*.sql"))]


def default_queries_dir(db_path: Path | None = None) -> Path | None:
    """A ``queries`` folder beside the database (the team's own), else the saved
    queries shipped in the package (``monitor/saved_queries``, which ``db/queries`` of
    a checkout links to), so an installed copy offers them too."""
    if db_path is not None and (db_path.parent / "queries").is_dir():
        return db_path.parent / "queries"
    shipped = Path(__file__).resolve().parent / "saved_queries"
    return shipped if shipped.is_dir() else None

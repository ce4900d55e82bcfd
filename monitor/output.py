"""Writing rows for people and programs: CSV for spreadsheets, JSON, JSON Lines, and a
terminal table. Pure formatting over text streams; callers open the files.

Every value came from the internet. CSV cells that a spreadsheet would run as a
formula (starting with = + - @, tab or CR) are prefixed with a single quote, and text
for a terminal loses control characters, so a hostile title cannot run a formula in
Excel or move the cursor in a terminal.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from typing import Any, Iterable, Mapping, Sequence, TextIO

FORMATS = ("csv", "json", "jsonl")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b\ufeff]+")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell value that spreadsheets show as text, never evaluate."""
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], stream: TextIO) -> int:
    """Header plus one line per row; lists become ``a; b``. Returns the rows written."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(column)) for column in columns])
        count += 1
    return count


def write_json(rows: Iterable[Mapping[str, Any]], stream: TextIO) -> int:
    """A JSON array, written row by row so a million items never sit in memory."""
    count = 0
    stream.write("[")
    for row in rows:
        stream.write(",\n  " if count else "\n  ")
        stream.write(json.dumps(row, ensure_ascii=False))
        count += 1
    stream.write("\n]\n" if count else "]\n")
    return count


def write_jsonl(rows: Iterable[Mapping[str, Any]], stream: TextIO) -> int:
    """One JSON object per line."""
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False))
        stream.write("\n")
        count += 1
    return count


def write_rows(fmt: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str], stream: TextIO) -> int:
    if fmt == "csv":
        return write_csv(rows, columns, stream)
    if fmt == "json":
        return write_json(rows, stream)
    if fmt == "jsonl":
        return write_jsonl(rows, stream)
    raise ValueError(f"unknown format {fmt!r}")


def terminal_safe(value: Any, *, strip: bool = True) -> str:
    """One line of text with no control characters (no escape sequences)."""
    if value is None:
        return ""
    text = re.sub(r"\s+", " ", _TERMINAL_UNSAFE.sub(" ", str(value)))
    return text.strip() if strip else text


def terminal_width(default: int = 100) -> int:
    return max(60, shutil.get_terminal_size((default, 24)).columns)


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"

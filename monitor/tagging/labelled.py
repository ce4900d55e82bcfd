"""Read labelled items in the shared JSON Lines format (``relevance-dev.jsonl``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from monitor.errors import TaggerError

NEGATIVE_PREFIX = "negative_"


@dataclass(frozen=True)
class Example:
    """One labelled item. ``group`` keeps items about the same event in one fold."""

    id: str
    title: str
    text: str
    relevant: bool
    platforms: tuple[str, ...]
    legislation: tuple[str, ...]
    topic: str
    group: str


def read_examples(path: str | Path) -> list[Example]:
    """Parse a labelled file; raise :class:`TaggerError` with the line number on bad input."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise TaggerError(f"cannot read labelled data {path}") from error
    examples: list[Example] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ident = str(row.get("id", f"line{number}"))
            examples.append(
                Example(
                    id=ident,
                    title=str(row.get("title") or ""),
                    text=str(row["text"]),
                    relevant=bool(row["relevant"]),
                    platforms=tuple(row.get("platforms") or ()),
                    legislation=tuple(row.get("legislation") or ()),
                    topic=str(row.get("topic") or ("relevant" if row["relevant"] else "negative_other")),
                    group=str(row.get("group") or ident),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise TaggerError(f"{path}:{number}: not a labelled item (needs text and relevant)") from error
    if not examples:
        raise TaggerError(f"{path}: no labelled items")
    return examples


def pairs(examples: Iterable[Example]) -> list[tuple[str, str]]:
    return [(e.title, e.text) for e in examples]

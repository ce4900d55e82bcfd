"""The plain keyword filter the tagger must beat: "groom*", a platform name or a law name
anywhere in the item means relevant. Platforms and laws are tagged by their names
alone, case-insensitively, from the same pattern files as the tagger."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from monitor.tagging.resources import load_resources


@dataclass(frozen=True)
class BaselineResult:
    relevant: bool
    platforms: tuple[str, ...]
    legislation: tuple[str, ...]


class KeywordBaseline:
    """Compiled once; ``classify`` is a few regex searches per item."""

    def __init__(self, patterns_dir: Path | None = None):
        resources = load_resources(patterns_dir)
        names: dict[tuple[str, str], list[str]] = {}
        for term in resources.terms:
            if term.kind in ("PLATFORM", "LAW") and term.id:
                names.setdefault((term.kind, term.id), []).append(term.text)
        self.patterns = {
            key: re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(t) for t in sorted(set(v), key=len, reverse=True)) + r")(?!\w)",
                re.IGNORECASE,
            )
            for key, v in names.items()
        }
        self.groom = re.compile(r"\bgroom", re.IGNORECASE)

    def classify(self, title: str, text: str) -> BaselineResult:
        platforms = tuple(
            ident for (kind, ident), rx in self.patterns.items() if kind == "PLATFORM" and rx.search(text)
        )
        laws = tuple(ident for (kind, ident), rx in self.patterns.items() if kind == "LAW" and rx.search(text))
        whole = f"{title}\n{text}"
        relevant = bool(self.groom.search(whole)) or any(rx.search(whole) for rx in self.patterns.values())
        return BaselineResult(relevant, platforms, laws)

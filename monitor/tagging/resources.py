"""Load the tagger's data files: term lists, laws, platforms, organisations, prior weights.

Everything the rules know lives in ``patterns/`` as JSON Lines or TOML, so the campaign
team can review and extend it without reading Python. This module only parses and
validates those files; it never imports spaCy.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from monitor.errors import TaggerError

PACKAGE_DIR = Path(__file__).resolve().parent
PATTERNS_DIR = PACKAGE_DIR / "patterns"
MODEL_DIR = PACKAGE_DIR / "model"
MODEL_FILE = "relevance.json"
PRIOR_FILE = "prior.toml"

# Bump when code changes alter the tagger's output for the same data files.
CODE_VERSION = "2"

ENTITY_KINDS = ("PLATFORM", "ORG", "LAW")


@dataclass(frozen=True)
class Term:
    """One surface form to match: ``kind|label|id|rule`` becomes the matcher key."""

    kind: str  # CONCEPT, PLATFORM, ORG or LAW
    label: str  # concept label, or the entity kind again
    id: str  # canonical id ("instagram", "NSPCC", "coppa_us"); concept terms use ""
    text: str
    exact: bool  # case-sensitive (ORTH) instead of normalised (NORM) matching
    rule: str = ""  # name of a context rule in ``features`` ("" = none)

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.label}|{self.id}|{self.rule}"


@dataclass(frozen=True)
class Resources:
    """Everything loaded from ``patterns/``: terms to match and the prior weights."""

    terms: tuple[Term, ...]
    child_protection_orgs: frozenset[str]
    sense_descriptions: dict[str, str]
    prior: dict[str, Any]
    feature_descriptions: dict[str, str]
    digest: str = field(default="")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise TaggerError(f"cannot read pattern file {path}") from error
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise TaggerError(f"{path.name}:{number}: not valid JSON") from error
        if not isinstance(row, dict):
            raise TaggerError(f"{path.name}:{number}: expected an object")
        rows.append(row)
    return rows


def _entity_terms(path: Path, kind: str) -> tuple[list[Term], set[str]]:
    terms: list[Term] = []
    protective: set[str] = set()
    for row in _read_jsonl(path):
        ident = str(row.get("id", ""))
        rule = str(row.get("rule", ""))
        rule_exact = str(row.get("rule_exact", rule))
        for text in row.get("terms", []):
            terms.append(Term(kind, kind, ident, text, False, rule))
        for text in row.get("exact", []):
            terms.append(Term(kind, kind, ident, text, True, rule_exact))
        if row.get("child_protection"):
            protective.add(ident)
    return terms, protective


def _concept_terms(path: Path) -> tuple[list[Term], dict[str, str]]:
    terms: list[Term] = []
    descriptions: dict[str, str] = {}
    for row in _read_jsonl(path):
        label = str(row["label"])
        if "description" in row:
            descriptions[label] = str(row["description"])
        for text in row.get("terms", []):
            terms.append(Term("CONCEPT", label, "", text, False))
        for text in row.get("exact", []):
            terms.append(Term("CONCEPT", label, "", text, True))
    return terms, descriptions


def pattern_files(patterns_dir: Path = PATTERNS_DIR) -> list[Path]:
    """The data files that define the rules, in a stable order (for hashing)."""
    return sorted(p for p in patterns_dir.iterdir() if p.suffix in (".jsonl", ".toml"))


def load_resources(patterns_dir: Path | None = None) -> Resources:
    """Parse every pattern file; raise :class:`TaggerError` naming the file on any problem."""
    directory = Path(patterns_dir) if patterns_dir else PATTERNS_DIR
    if not directory.is_dir():
        raise TaggerError(f"pattern directory not found: {directory}")
    terms: list[Term] = []
    platform_terms, _ = _entity_terms(directory / "platforms.jsonl", "PLATFORM")
    org_terms, protective = _entity_terms(directory / "organisations.jsonl", "ORG")
    law_terms, _ = _entity_terms(directory / "laws.jsonl", "LAW")
    concept_terms, _ = _concept_terms(directory / "concepts.jsonl")
    sense_terms, senses = _concept_terms(directory / "senses.jsonl")
    terms = platform_terms + org_terms + law_terms + concept_terms + sense_terms
    try:
        prior = tomllib.loads((directory / PRIOR_FILE).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise TaggerError(f"cannot load {directory / PRIOR_FILE}") from error
    features = prior.get("features", {})
    if not isinstance(features, dict) or not features:
        raise TaggerError(f"{PRIOR_FILE}: [features] table is missing or empty")
    descriptions = {name: str(spec.get("why", name)) for name, spec in features.items()}
    return Resources(
        terms=tuple(terms),
        child_protection_orgs=frozenset(protective),
        sense_descriptions=senses,
        prior=prior,
        feature_descriptions=descriptions,
        digest=digest_files(pattern_files(directory)),
    )


KNOWN_FILES = {"platform": "platforms.jsonl", "organisation": "organisations.jsonl", "legislation": "laws.jsonl"}


@lru_cache(maxsize=8)
def known_ids(kind: str, patterns_dir: Path | None = None) -> frozenset[str]:
    """The ids the tagger can give for ``kind`` (platform, organisation, legislation),
    read from the pattern files: what an alert rule may name and ever see matched."""
    rows = _read_jsonl((Path(patterns_dir) if patterns_dir else PATTERNS_DIR) / KNOWN_FILES[kind])
    return frozenset(str(row["id"]) for row in rows if row.get("id"))


def digest_files(paths: list[Path]) -> str:
    """sha256 over file names and bytes: changes whenever any rule file changes."""
    hasher = hashlib.sha256()
    for path in paths:
        hasher.update(path.name.encode())
        hasher.update(b"\0")
        hasher.update(path.read_bytes())
        hasher.update(b"\0")
    return hasher.hexdigest()

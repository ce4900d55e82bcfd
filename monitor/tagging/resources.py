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
CONTEXT_FILE = "context.toml"
STATISTICS_FILE = "statistics.toml"

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
class ContextWords:
    """Words next to a match that the context rules of ``features`` check (``context.toml``)."""

    x_ok_prev: frozenset[str]
    x_reject_prev: frozenset[str]  # as written
    x_reject_next: frozenset[str]  # as written
    common_noun_prev: frozenset[str]
    network_prev: frozenset[str]
    meta_hyphen_ok_next: frozenset[str]
    police_not_name: frozenset[str]  # as written
    age_before_number: frozenset[str]
    not_age_next: frozenset[str]
    word_numbers: dict[str, int]


@dataclass(frozen=True)
class StatisticsWords:
    """Words that decide a quoted figure's unit and what it counts (``statistics.toml``)."""

    skip: frozenset[str]
    not_units: frozenset[str]
    function_words: frozenset[str]
    irregular_plurals: frozenset[str]
    counted: frozenset[str]
    of_skip: frozenset[str]
    money_for: frozenset[str]
    months: frozenset[str]
    before_not_stat: frozenset[str]
    before_year: frozenset[str]
    currency_symbols: dict[str, str]
    currency_words: dict[str, str]
    scale: dict[str, float]


@dataclass(frozen=True)
class Resources:
    """Everything loaded from ``patterns/``: terms to match, context words, prior weights."""

    terms: tuple[Term, ...]
    child_protection_orgs: frozenset[str]
    sense_descriptions: dict[str, str]
    prior: dict[str, Any]
    feature_descriptions: dict[str, str]
    context: ContextWords
    statistics: StatisticsWords
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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise TaggerError(f"cannot load {path}") from error


def _table(data: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    """``data[key]`` (dotted for nested tables) as a table; a :class:`TaggerError` naming it if not."""
    value: Any = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, dict):
        raise TaggerError(f"{name}: [{key}] table is missing")
    return value


def _words(table: dict[str, Any], key: str, name: str, lower: bool = True) -> frozenset[str]:
    """A list of strings from ``table``; lower-cased unless it is matched as written."""
    value = table.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaggerError(f"{name}: {key} must be a list of strings")
    return frozenset(v.lower() for v in value) if lower else frozenset(value)


def _mapping(table: dict[str, Any], name: str, kind: type) -> dict[str, Any]:
    if not all(isinstance(v, kind) and not isinstance(v, bool) for v in table.values()):
        raise TaggerError(f"{name}: every value must be a {kind.__name__}")
    return {str(k).lower(): kind(v) for k, v in table.items()}


def load_context_words(patterns_dir: Path | None = None) -> ContextWords:
    """Parse ``context.toml``: the words the entity and age rules look at."""
    path = (Path(patterns_dir) if patterns_dir else PATTERNS_DIR) / CONTEXT_FILE
    data, name = _read_toml(path), CONTEXT_FILE
    x, ages = _table(data, "x", name), _table(data, "ages", name)
    return ContextWords(
        x_ok_prev=_words(x, "ok_prev", name),
        x_reject_prev=_words(x, "reject_prev", name, lower=False),
        x_reject_next=_words(x, "reject_next", name, lower=False),
        common_noun_prev=_words(_table(data, "signal", name), "common_noun_prev", name),
        network_prev=_words(_table(data, "facebook", name), "network_prev", name),
        meta_hyphen_ok_next=_words(_table(data, "meta", name), "hyphen_ok_next", name),
        police_not_name=_words(_table(data, "police", name), "not_name", name, lower=False),
        age_before_number=_words(ages, "before_number", name),
        not_age_next=_words(ages, "not_age_next", name),
        word_numbers=_mapping(_table(data, "ages.word_numbers", name), name, int),
    )


def load_statistics_words(patterns_dir: Path | None = None) -> StatisticsWords:
    """Parse ``statistics.toml``: the words that decide a figure's unit."""
    path = (Path(patterns_dir) if patterns_dir else PATTERNS_DIR) / STATISTICS_FILE
    data, name = _read_toml(path), STATISTICS_FILE
    return StatisticsWords(
        skip=_words(data, "skip", name),
        not_units=_words(data, "not_units", name),
        function_words=_words(data, "function_words", name),
        irregular_plurals=_words(data, "irregular_plurals", name),
        counted=_words(data, "counted", name),
        of_skip=_words(data, "of_skip", name),
        money_for=_words(data, "money_for", name),
        months=_words(data, "months", name),
        before_not_stat=_words(data, "before_not_stat", name),
        before_year=_words(data, "before_year", name),
        currency_symbols=_mapping(_table(data, "currency_symbols", name), name, str),
        currency_words=_mapping(_table(data, "currency_words", name), name, str),
        scale=_mapping(_table(data, "scale", name), name, float),
    )


@lru_cache(maxsize=1)
def packaged_statistics_words() -> StatisticsWords:
    """The packaged ``statistics.toml``, parsed once per process."""
    return load_statistics_words()


@lru_cache(maxsize=1)
def packaged_context_words() -> ContextWords:
    """The packaged ``context.toml``, parsed once per process."""
    return load_context_words()


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
    prior = _read_toml(directory / PRIOR_FILE)
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
        context=load_context_words(directory),
        statistics=load_statistics_words(directory),
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

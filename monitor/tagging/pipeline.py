"""spaCy components of the tagger, registered by name with typed settings.

``monitor_terms``      PhraseMatchers (normalised and case-sensitive) over every term list.
``monitor_relevance``  rule features -> relevance score, topics, platforms, laws, orgs, why.
``monitor_statistics`` quoted figures of every item (the views and the digest show relevant ones).

Term lists are data files loaded in ``initialize`` (not literals in code), so the
pipeline is built with ``spacy.blank("en")`` and then ``nlp.initialize()``. This
module imports spaCy: import it only when a tagger is really needed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from monitor.errors import TaggerError
from monitor.tagging.features import Analysis, Hit, Matches, analyse, evidence
from monitor.tagging.keys import ANALYSIS, HITS, RAW, TAGS, TEXT_START
from monitor.tagging.relevance import RelevanceModel, load_model, prior_model
from monitor.tagging.resources import (
    CODE_VERSION,
    MODEL_DIR,
    MODEL_FILE,
    Resources,
    StatisticsWords,
    load_resources,
)
from monitor.tagging.stats import extract_statistics
from monitor.tagging.topics import topics_for
from monitor.types import Tags


def _resources(nlp: Language, patterns_dir: str) -> Resources:
    """The parsed pattern files, shared by the components (parsed once per directory)."""
    return _cached_resources(patterns_dir)


@lru_cache(maxsize=8)
def _cached_resources(patterns_dir: str) -> Resources:
    return load_resources(Path(patterns_dir) if patterns_dir else None)


class TermMatcher:
    """Finds every term of the pattern files; leaves raw hits in ``doc.user_data``."""

    def __init__(self, nlp: Language, name: str, patterns_dir: str):
        self.nlp = nlp
        self.name = name
        self.patterns_dir = patterns_dir
        self.keys: dict[int, tuple[str, str, str, str]] = {}
        # Match id -> concept label, or None for an entity (whose hit starts with its key).
        self.concepts: dict[int, str | None] = {}
        # Case-sensitive terms share the one NORM matcher (one pass over the doc) and are
        # then checked against their exact token texts here.
        self.exact: dict[int, set[tuple[str, ...]]] = {}
        self.matcher: PhraseMatcher | None = None

    def initialize(
        self, get_examples: Callable[[], Iterable[Any]] | None = None, *, nlp: Language | None = None
    ) -> None:
        resources = _resources(self.nlp, self.patterns_dir)
        matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        by_key: dict[tuple[str, bool], list[str]] = {}
        for term in resources.terms:
            by_key.setdefault((term.key, term.exact), []).append(term.text)
        tokenizer = self.nlp.tokenizer
        strings = self.nlp.vocab.strings
        for (key, exact), texts in by_key.items():
            docs = [tokenizer(t) for t in dict.fromkeys(texts)]
            match_key = ("EXACT:" + key) if exact else key
            matcher.add(match_key, docs)
            kind, label, ident, rule = key.split("|")
            self.keys[strings[match_key]] = (kind, label, ident, rule)
            self.concepts[strings[match_key]] = label if kind == "CONCEPT" else None
            if exact:
                self.exact[strings[match_key]] = {tuple(t.text for t in d) for d in docs}
        self.matcher = matcher

    def __call__(self, doc: Doc) -> Doc:
        if self.matcher is None:
            raise TaggerError(f"component {self.name!r} used before nlp.initialize()")
        keys, exact, concepts = self.keys, self.exact, self.concepts
        # Grouped here, in the one pass over the matches, the way ``analyse`` reads them.
        concept: dict[str, list[tuple[int, int]]] = {}
        entities: list[Hit] = []
        for m, s, e in self.matcher(doc):
            if exact:
                allowed = exact.get(m)
                if allowed is not None:
                    surface = (doc[s].text,) if e - s == 1 else tuple(t.text for t in doc[s:e])
                    if surface not in allowed:
                        continue
            label = concepts[m]
            if label is None:
                entities.append((*keys[m], s, e))
            else:
                spans = concept.get(label)
                if spans is None:
                    concept[label] = [(s, e)]
                else:
                    spans.append((s, e))
        doc.user_data[HITS] = Matches(concept, entities)
        return doc


class RelevanceDecider:
    """Scores relevance with the logistic model and assembles the item's :class:`Tags`."""

    def __init__(self, nlp: Language, name: str, patterns_dir: str, model_path: str, threshold: float):
        self.nlp = nlp
        self.name = name
        self.patterns_dir = patterns_dir
        self.model_path = model_path
        self.threshold_setting = threshold
        self.model: RelevanceModel | None = None
        self.resources: Resources | None = None
        self.version = ""

    @property
    def threshold(self) -> float:
        assert self.model is not None
        return self.threshold_setting if self.threshold_setting >= 0 else self.model.threshold

    def initialize(
        self, get_examples: Callable[[], Iterable[Any]] | None = None, *, nlp: Language | None = None
    ) -> None:
        self.resources = _resources(self.nlp, self.patterns_dir)
        if self.model_path == "prior":
            self.model = prior_model(self.resources.prior)
        elif self.model_path:
            self.model = load_model(Path(self.model_path))
        elif (MODEL_DIR / MODEL_FILE).is_file():
            self.model = load_model(MODEL_DIR)
        else:
            self.model = prior_model(self.resources.prior)
        self.version = tagger_version(self.resources, self.model, self.threshold)

    def analyse(self, doc: Doc) -> Analysis:
        assert self.resources is not None
        text_start_char = int(doc.user_data.get(TEXT_START, 0))
        text_start = 0
        if text_start_char:  # binary search for the first token of the text
            low, high = 0, len(doc)
            while low < high:
                mid = (low + high) // 2
                if doc[mid].idx < text_start_char:
                    low = mid + 1
                else:
                    high = mid
            text_start = low
        resources = self.resources
        matches = doc.user_data.get(HITS) or Matches({}, [])
        return analyse(doc, matches, text_start, resources.child_protection_orgs, resources.context)

    def __call__(self, doc: Doc) -> Doc:
        if self.model is None or self.resources is None:
            raise TaggerError(f"component {self.name!r} used before nlp.initialize()")
        analysis = self.analyse(doc)
        score = self.model.score(analysis.features)
        relevant = score >= self.threshold
        why = self._why(doc, analysis, score, relevant)
        doc.user_data[ANALYSIS] = analysis
        doc.user_data[TAGS] = Tags(
            relevant=relevant,
            score=round(score, 4),
            topics=topics_for(analysis) if relevant else (),
            platforms=tuple(analysis.platforms),
            legislation=tuple(analysis.legislation),
            organisations=tuple(analysis.organisations),
            why=why,
            version=self.version,
        )
        return doc

    def _why(self, doc: Doc, analysis: Analysis, score: float, relevant: bool) -> tuple[str, ...]:
        assert self.model is not None and self.resources is not None
        describe = self.resources.feature_descriptions
        reasons: list[str] = []
        for name, weight in self.model.contributions(analysis.features)[:3]:
            words = ", ".join(evidence(doc, analysis, name)[:3])
            detail = f" ({words})" if words else ""
            reasons.append(f"{weight:+.1f} {describe.get(name, name)}{detail}")
        if not reasons:
            reasons.append("no campaign evidence found")
        verdict = ">=" if relevant else "<"
        reasons.append(f"score {score:.2f} {verdict} threshold {self.threshold:.2f}")
        return tuple(reasons)


class StatisticsExtractor:
    """Adds the quoted figures to every item (``only_relevant``: to relevant ones only).

    Figures are decided for every item, like platforms and laws, so a change of
    threshold or a re-tag never leaves an item without them; what the team sees
    (digest, ``quoted_statistics``, saved queries, export) keeps to relevant items.
    """

    def __init__(self, nlp: Language, name: str, only_relevant: bool, patterns_dir: str):
        self.nlp = nlp
        self.name = name
        self.only_relevant = only_relevant
        self.patterns_dir = patterns_dir
        self.words: StatisticsWords | None = None

    def initialize(
        self, get_examples: Callable[[], Iterable[Any]] | None = None, *, nlp: Language | None = None
    ) -> None:
        self.words = _resources(self.nlp, self.patterns_dir).statistics

    def __call__(self, doc: Doc) -> Doc:
        tags: Tags | None = doc.user_data.get(TAGS)
        if tags is None or (self.only_relevant and not tags.relevant):
            return doc
        start = int(doc.user_data.get(TEXT_START, 0))
        raw = doc.user_data.get(RAW)
        text = raw if raw is not None else doc.text
        statistics = extract_statistics(text[start:] if start else text, words=self.words)
        if statistics:
            doc.user_data[TAGS] = replace(tags, statistics=statistics)
        return doc


def tagger_version(resources: Resources, model: RelevanceModel, threshold: float) -> str:
    """Changes whenever the output could: code version, pattern files, weights, threshold."""
    hasher = hashlib.sha256()
    for part in (CODE_VERSION, resources.digest, json.dumps(model.to_json(), sort_keys=True), repr(threshold)):
        hasher.update(part.encode())
        hasher.update(b"\0")
    return f"{CODE_VERSION}-{hasher.hexdigest()[:12]}"


@Language.factory("monitor_terms", default_config={"patterns_dir": ""})
def make_term_matcher(nlp: Language, name: str, patterns_dir: str) -> TermMatcher:
    """``patterns_dir`` = "" uses the packaged ``monitor/tagging/patterns``."""
    return TermMatcher(nlp, name, patterns_dir)


@Language.factory(
    "monitor_relevance",
    default_config={"patterns_dir": "", "model_path": "", "threshold": -1.0},
)
def make_relevance(nlp: Language, name: str, patterns_dir: str, model_path: str, threshold: float) -> RelevanceDecider:
    """``model_path`` = "" uses the packaged trained model (or the prior if none),
    "prior" forces the hand-set prior; ``threshold`` < 0 uses the model's own."""
    return RelevanceDecider(nlp, name, patterns_dir, model_path, threshold)


@Language.factory("monitor_statistics", default_config={"only_relevant": False, "patterns_dir": ""})
def make_statistics(nlp: Language, name: str, only_relevant: bool, patterns_dir: str) -> StatisticsExtractor:
    """``patterns_dir`` = "" uses the packaged ``statistics.toml``."""
    return StatisticsExtractor(nlp, name, only_relevant, patterns_dir)


def build_pipeline(model_path: str = "", threshold: float = -1.0, patterns_dir: str = "") -> Language:
    """A blank English pipeline with the three components, initialised and ready."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("monitor_terms", config={"patterns_dir": patterns_dir})
    nlp.add_pipe(
        "monitor_relevance", config={"patterns_dir": patterns_dir, "model_path": model_path, "threshold": threshold}
    )
    nlp.add_pipe("monitor_statistics", config={"patterns_dir": patterns_dir})
    try:
        nlp.initialize()
    except TaggerError:
        raise
    except Exception as error:  # spaCy config or data errors
        raise TaggerError("cannot initialise the tagging pipeline") from error
    return nlp

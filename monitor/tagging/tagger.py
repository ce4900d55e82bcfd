"""The :class:`Tagger`: a loaded pipeline plus the version of everything that shaped it."""

from __future__ import annotations

import re

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from monitor.tagging.keys import ANALYSIS, RAW, TAGS, TEXT_START
from monitor.types import Tags

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

    from monitor.tagging.features import Analysis

SEPARATOR = "\n\n"
# Items are tagged on their first characters only: spaCy refuses documents over 1,000,000
# characters, and the opening of an article is what decides its subject anyway.
MAX_CHARS = 100_000


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD. Strict UTF-8 encoding fails on
    surrogates and nothing else, and is much cheaper than scanning with the pattern."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


class Tagger:
    """Tags items as relevant or not, with topics, platforms, laws, organisations,
    statistics and reasons. Build it with :func:`monitor.tagging.load_tagger`."""

    def __init__(self, nlp: Language):
        self.nlp = nlp
        from monitor.tagging.pipeline import RelevanceDecider

        decider = nlp.get_pipe("monitor_relevance")
        assert isinstance(decider, RelevanceDecider)
        self._decider = decider
        self.threshold: float = decider.threshold
        self.version: str = decider.version
        self.model_meta: dict[str, object] = dict(decider.model.meta) if decider.model else {}

    def _make_doc(self, title: str, text: str) -> Doc:
        # Lone surrogates (from JSON "\\ud83d" escapes) cannot be encoded and crash spaCy.
        title = _without_surrogates((title or "").strip())
        text = _without_surrogates(text or "")
        raw = title + SEPARATOR + text if title else text
        if len(raw) > MAX_CHARS:
            raw = raw[:MAX_CHARS]
        doc = self.nlp.make_doc(raw)
        doc.user_data[RAW] = raw
        if title:
            doc.user_data[TEXT_START] = len(title) + len(SEPARATOR)
        return doc

    def _tags(self, doc: Doc) -> Tags:
        tags: Tags = doc.user_data[TAGS]
        return tags

    def tag(self, title: str, text: str) -> Tags:
        """Tag one item. ``title`` may be empty; platforms and laws come from ``text`` only."""
        return self._tags(self.nlp(self._make_doc(title, text)))

    def tag_many(self, pairs: Iterable[tuple[str, str]], batch_size: int = 64) -> Iterator[Tags]:
        """Tag ``(title, text)`` pairs lazily, in order, through ``nlp.pipe``."""
        docs = (self._make_doc(title, text) for title, text in pairs)
        for doc in self.nlp.pipe(docs, batch_size=batch_size):
            yield self._tags(doc)

    def analyse_many(self, pairs: Iterable[tuple[str, str]], batch_size: int = 64) -> Iterator[tuple[Tags, Analysis]]:
        """Like :meth:`tag_many`, with the rule features too (for training and evaluation)."""
        docs = (self._make_doc(title, text) for title, text in pairs)
        for doc in self.nlp.pipe(docs, batch_size=batch_size):
            yield self._tags(doc), doc.user_data[ANALYSIS]


def resolve_model_path(model_path: str | Path | None) -> str:
    """The ``model_path`` setting of the pipeline for a user-given path."""
    if model_path is None:
        return ""
    if str(model_path) == "prior":
        return "prior"
    return str(Path(model_path).expanduser().resolve())

"""The :class:`Tagger`: a loaded pipeline plus the version of everything that shaped it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from monitor.tagging.resources import CODE_VERSION
from monitor.types import Tags

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

    from monitor.tagging.features import Analysis

SEPARATOR = "\n\n"


class Tagger:
    """Tags items as relevant or not, with topics, platforms, laws, organisations,
    statistics and reasons. Build it with :func:`monitor.tagging.load_tagger`."""

    def __init__(self, nlp: Language):
        from monitor.tagging.pipeline import ANALYSIS, TAGS  # noqa: F401  (spaCy is loaded by now)

        self.nlp = nlp
        decider = nlp.get_pipe("monitor_relevance")
        self._decider = decider
        self.threshold: float = decider.threshold
        model = decider.model
        resources = decider.resources
        hasher = hashlib.sha256()
        hasher.update(CODE_VERSION.encode())
        hasher.update(resources.digest.encode())
        hasher.update(json.dumps(model.to_json(), sort_keys=True).encode())
        hasher.update(repr(self.threshold).encode())
        self.version: str = f"{CODE_VERSION}-{hasher.hexdigest()[:12]}"
        self.model_meta: dict = dict(model.meta)

    def _make_doc(self, title: str, text: str) -> Doc:
        from monitor.tagging.pipeline import TEXT_START

        title = (title or "").strip()
        text = text or ""
        if title:
            doc = self.nlp.make_doc(title + SEPARATOR + text)
            doc.user_data[TEXT_START] = len(title) + len(SEPARATOR)
        else:
            doc = self.nlp.make_doc(text)
        return doc

    def _tags(self, doc: Doc) -> Tags:
        from dataclasses import replace

        from monitor.tagging.pipeline import TAGS

        return replace(doc.user_data[TAGS], version=self.version)

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
        from monitor.tagging.pipeline import ANALYSIS

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

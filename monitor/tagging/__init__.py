"""Relevance and topic tagging of collected items.

Public API (stable; the collector and the CLI call exactly this)::

    tagger = load_tagger()                 # packaged model, default threshold
    tags = tagger.tag(title, text)         # -> monitor.types.Tags
    for tags in tagger.tag_many(pairs):    # (title, text) pairs, via nlp.pipe
        ...
    tagger.version                         # changes when patterns, model or code change
    tags_to_dict(tags) / tags_from_dict(d) # JSON-able form used by `classify` and storage

spaCy is imported only when a tagger is loaded, never when this module is imported.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from monitor.tagging.convert import tags_from_dict, tags_to_dict
from monitor.tagging.tagger import Tagger  # spaCy-free: the pipeline is built in _load

__all__ = ["Tagger", "load_tagger", "tags_from_dict", "tags_to_dict"]


def load_tagger(model_path: str | Path | None = None, threshold: float | None = None) -> Tagger:
    """Load (once per arguments) the tagging pipeline.

    ``model_path``: a directory or ``relevance.json`` written by ``monitor train``;
    None uses the model shipped in the package (or the hand-set prior weights if the
    package has none); the string ``"prior"`` forces the prior. ``threshold``: the
    score from which an item is relevant; None uses the model's own (0.5).
    Raises :class:`monitor.errors.TaggerError` if the patterns or model cannot be loaded.
    """
    from monitor.tagging.tagger import resolve_model_path

    return _load(resolve_model_path(model_path), -1.0 if threshold is None else float(threshold))


@lru_cache(maxsize=8)
def _load(model_path: str, threshold: float) -> Tagger:
    from monitor.tagging.pipeline import build_pipeline

    return Tagger(build_pipeline(model_path=model_path, threshold=threshold))


"""Fit the relevance weights: `monitor train --data FILE [--out DIR] [--seed N]`.

A logistic regression over the rule features, started at the hand-set prior and
pulled back towards it by an L2 penalty, trained by full-batch gradient descent.
Deterministic: the same data, patterns and settings give byte-identical model files
(no timestamps). The labelled texts never enter the model file, only weights and a
hash of the data.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from monitor.errors import TaggerError
from monitor.tagging.labelled import Example, read_examples
from monitor.tagging.relevance import RelevanceModel, prior_model
from monitor.tagging.resources import CODE_VERSION, MODEL_DIR, MODEL_FILE, PACKAGE_DIR

BUILTIN_EXAMPLES = PACKAGE_DIR / "data" / "examples.jsonl"
ITERATIONS = 3000
LEARNING_RATE = 0.5


def fit(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[bool],
    prior: RelevanceModel,
    l2_to_prior: float,
    iterations: int = ITERATIONS,
) -> RelevanceModel:
    """Gradient descent on mean log-loss + ``l2_to_prior`` * |w - w_prior|^2."""
    import numpy as np

    names = sorted(prior.weights)
    x = np.array([[row.get(n, 0.0) for n in names] for row in rows], dtype=float)
    y = np.array([1.0 if label else 0.0 for label in labels])
    w0 = np.array([prior.weights[n] for n in names])
    w = w0.copy()
    b0 = prior.bias
    b = b0
    n = max(len(y), 1)
    for _ in range(iterations):
        z = np.clip(x @ w + b, -30, 30)
        p = 1.0 / (1.0 + np.exp(-z))
        grad = p - y
        w -= LEARNING_RATE * (x.T @ grad / n + 2 * l2_to_prior * (w - w0))
        b -= LEARNING_RATE * (grad.mean() + 2 * l2_to_prior * (b - b0))
    weights = {name: float(round(value, 6)) for name, value in zip(names, w)}
    return RelevanceModel(weights, float(round(b, 6)), prior.threshold, {})


def data_digest(examples: Sequence[Example]) -> str:
    hasher = hashlib.sha256()
    for e in examples:
        hasher.update(json.dumps([e.id, e.title, e.text, e.relevant], ensure_ascii=False).encode())
    return hasher.hexdigest()


def training_examples(data: Sequence[str | Path], builtin: bool = True) -> list[Example]:
    examples: list[Example] = []
    for path in data:
        examples.extend(read_examples(path))
    if builtin and BUILTIN_EXAMPLES.is_file():
        examples.extend(read_examples(BUILTIN_EXAMPLES))
    if not examples:
        raise TaggerError("no training data")
    return examples


def feature_rows(examples: Sequence[Example]) -> list[dict[str, float]]:
    """Rule features of each example (they do not depend on the weights)."""
    from monitor.tagging import load_tagger

    tagger = load_tagger("prior")
    return [dict(a.features) for _, a in tagger.analyse_many([(e.title, e.text) for e in examples])]


def train_model(
    examples: Sequence[Example], seed: int = 0, rows: Sequence[Mapping[str, float]] | None = None
) -> RelevanceModel:
    """Fit on ``examples`` (features computed unless ``rows`` are given)."""
    from monitor.tagging.resources import load_resources

    resources = load_resources()
    prior = prior_model(resources.prior)
    rows = feature_rows(examples) if rows is None else rows
    model = fit(rows, [e.relevant for e in examples], prior, float(resources.prior.get("l2_to_prior", 0.05)))
    meta: dict[str, Any] = {
        "source": "monitor train",
        "code_version": CODE_VERSION,
        "patterns_sha256": resources.digest,
        "data_sha256": data_digest(examples),
        "n_examples": len(examples),
        "n_relevant": sum(1 for e in examples if e.relevant),
        "seed": seed,
        "iterations": ITERATIONS,
        "l2_to_prior": resources.prior.get("l2_to_prior", 0.05),
    }
    return RelevanceModel(model.weights, model.bias, model.threshold, meta)


def train(data: Sequence[str | Path], out: str | Path | None = None, seed: int = 0, builtin: bool = True) -> Path:
    """Train on the files in ``data`` (+ our own written examples) and write the model.

    ``seed`` is recorded for provenance; the fit itself is deterministic.
    Returns the path of the written ``relevance.json``.
    """
    examples = training_examples(data, builtin)
    model = train_model(examples, seed)
    directory = Path(out) if out else MODEL_DIR
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / MODEL_FILE
        target.write_text(json.dumps(model.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as error:
        raise TaggerError(f"cannot write the model to {directory}") from error
    return target

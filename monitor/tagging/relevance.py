"""The relevance model: a logistic regression over the rule features.

Small on purpose: about thirty named weights that a person can read, so every
decision can be explained ("+4.0 'groom' next to sexual or abuse words"). The
weights come from ``patterns/prior.toml`` (set by hand from the rubric) or from a
model file written by ``monitor train``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from monitor.errors import TaggerError


@dataclass(frozen=True)
class RelevanceModel:
    """Weights, bias and decision threshold; ``meta`` says where they came from."""

    weights: dict[str, float]
    bias: float
    threshold: float
    meta: dict[str, Any]

    def logit(self, features: Mapping[str, float]) -> float:
        return self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items())

    def score(self, features: Mapping[str, float]) -> float:
        return _sigmoid(self.logit(features))

    def contributions(self, features: Mapping[str, float]) -> list[tuple[str, float]]:
        """Non-zero feature contributions, largest magnitude first (for ``why``)."""
        weights = self.weights
        parts = [
            (name, part)
            for name, value in features.items()
            if value and abs(part := weights.get(name, 0.0) * value) >= 0.05
        ]
        if len(parts) > 1:
            parts.sort(key=_magnitude)
        return parts

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "monitor-relevance-logreg",
            "bias": round(self.bias, 6),
            "threshold": self.threshold,
            "weights": {k: round(v, 6) for k, v in sorted(self.weights.items())},
            "meta": self.meta,
        }


def _magnitude(part: tuple[str, float]) -> float:
    """Sort key: largest contribution first (a stable sort keeps ties in feature order)."""
    return -abs(part[1])


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def prior_model(prior: Mapping[str, Any]) -> RelevanceModel:
    """The hand-set weights of ``prior.toml``."""
    weights = {name: float(spec["weight"]) for name, spec in prior["features"].items()}
    return RelevanceModel(weights, float(prior["bias"]), float(prior.get("threshold", 0.5)), {"source": "prior"})


def load_model(path: Path) -> RelevanceModel:
    """Read a model file written by ``monitor train`` (a directory or the JSON file itself)."""
    file = path / "relevance.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data.get("kind") != "monitor-relevance-logreg":
            raise ValueError("not a monitor relevance model")
        return RelevanceModel(
            {str(k): float(v) for k, v in data["weights"].items()},
            float(data["bias"]),
            float(data.get("threshold", 0.5)),
            dict(data.get("meta", {})),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TaggerError(f"cannot load relevance model {file}") from error

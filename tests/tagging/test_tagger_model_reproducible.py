"""The shipped weights are reproducible: `monitor train --data ../shared/data/relevance-dev.jsonl`
(plus the built-in examples, as the command does by default) gives them again.

Skipped, naming ../shared/data, when the shared labelled data is not beside the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.shared

TOLERANCE = 1e-4  # weights are written rounded to 6 decimals; allow for other BLAS builds


def test_training_on_the_shared_data_reproduces_the_shipped_weights(shared_dev: Path) -> None:
    from monitor.tagging.resources import MODEL_DIR, MODEL_FILE
    from monitor.tagging.train import train_model, training_examples

    shipped = json.loads((MODEL_DIR / MODEL_FILE).read_text(encoding="utf-8"))
    model = train_model(training_examples([shared_dev], builtin=True)).to_json()
    hint = "re-train: monitor train --data ../shared/data/relevance-dev.jsonl, and commit monitor/tagging/model/"
    assert model["meta"]["data_sha256"] == shipped["meta"]["data_sha256"], (
        "the shipped weights were trained on other data than ../shared/data + the built-in examples; " + hint)
    assert model["meta"]["patterns_sha256"] == shipped["meta"]["patterns_sha256"], hint
    assert model["weights"].keys() == shipped["weights"].keys()
    for name, weight in model["weights"].items():
        assert weight == pytest.approx(shipped["weights"][name], abs=TOLERANCE), f"{name}: {hint}"
    assert model["bias"] == pytest.approx(shipped["bias"], abs=TOLERANCE), hint
    assert model["threshold"] == shipped["threshold"]

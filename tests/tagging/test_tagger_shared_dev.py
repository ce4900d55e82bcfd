"""The bars on the shared development set (skipped when ../shared is not beside the repo).

Cross-validated: the weights are re-trained on four folds and scored on the fifth, so
the figures are not measured on the items the weights were fitted to. The rules
themselves were written from the labelling rubric, with the set in view.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.shared


def test_cross_validated_bars(shared_dev: Path) -> None:
    from monitor.tagging.evaluate import evaluate
    from monitor.tagging.labelled import read_examples

    report = evaluate(read_examples(shared_dev), cv=5, seed=0)
    tagger, baseline = report["tagger"], report["baseline"]
    assert tagger["relevance"]["precision"] >= 0.95
    assert tagger["relevance"]["f1"] >= 0.92
    assert tagger["platforms"]["f1"] >= 0.95
    assert tagger["legislation"]["f1"] >= 0.90
    assert tagger["relevance"]["f1"] > baseline["relevance"]["f1"]


def test_hard_negatives_are_rejected(shared_dev: Path) -> None:
    from monitor.tagging.evaluate import evaluate
    from monitor.tagging.labelled import read_examples

    report = evaluate(read_examples(shared_dev))
    for topic, row in report["tagger"]["confusion"].items():
        if topic.startswith("negative_"):
            assert row.get("relevant", 0) <= 1, (topic, row)

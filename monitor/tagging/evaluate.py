"""Score the tagger against labelled items, side by side with the keyword baseline.

Relevance precision/recall/F1, micro-F1 of platforms and of legislation, and the
confusion by gold topic. With ``cv`` > 1 the relevance weights are re-trained on
each training fold and scored on the held-out fold (items sharing a ``group`` stay in
one fold), so the figures are not measured on the data the weights were fitted to.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

from monitor.tagging.baseline import KeywordBaseline
from monitor.tagging.labelled import NEGATIVE_PREFIX, Example

TOPIC_COLUMNS = ("grooming", "sextortion", "csam", "child_online_safety", "legislation", "not_relevant")


@dataclass(frozen=True)
class Prediction:
    relevant: bool
    platforms: tuple[str, ...]
    legislation: tuple[str, ...]
    topic: str  # main predicted topic, "not_relevant" when not relevant


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _set_micro(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float | int]:
    tp = fp = fn = 0
    for g, p in zip(gold, pred):
        gs, ps = set(g), set(p)
        tp += len(gs & ps)
        fp += len(ps - gs)
        fn += len(gs - ps)
    return prf(tp, fp, fn)


def score(examples: Sequence[Example], predictions: Sequence[Prediction]) -> dict[str, Any]:
    """All figures for one system."""
    tp = sum(1 for e, p in zip(examples, predictions) if e.relevant and p.relevant)
    fp = sum(1 for e, p in zip(examples, predictions) if not e.relevant and p.relevant)
    fn = sum(1 for e, p in zip(examples, predictions) if e.relevant and not p.relevant)
    confusion: dict[str, dict[str, int]] = {}
    for e, p in zip(examples, predictions):
        row = confusion.setdefault(e.topic, {})
        if e.topic.startswith(NEGATIVE_PREFIX):
            column = "relevant" if p.relevant else "not_relevant"
        else:
            column = p.topic if p.relevant else "not_relevant"
        row[column] = row.get(column, 0) + 1
    return {
        "relevance": prf(tp, fp, fn),
        "platforms": _set_micro([e.platforms for e in examples], [p.platforms for p in predictions]),
        "legislation": _set_micro([e.legislation for e in examples], [p.legislation for p in predictions]),
        "confusion": dict(sorted(confusion.items())),
        "false_positives": [e.id for e, p in zip(examples, predictions) if p.relevant and not e.relevant],
        "false_negatives": [e.id for e, p in zip(examples, predictions) if e.relevant and not p.relevant],
    }


def baseline_predictions(examples: Sequence[Example]) -> list[Prediction]:
    baseline = KeywordBaseline()
    out = []
    for e in examples:
        r = baseline.classify(e.title, e.text)
        out.append(Prediction(r.relevant, r.platforms, r.legislation, "relevant" if r.relevant else "not_relevant"))
    return out


def tagger_predictions(
    examples: Sequence[Example], model_path: str | None = None, threshold: float | None = None
) -> list[Prediction]:
    from monitor.tagging import load_tagger

    tagger = load_tagger(model_path, threshold)
    return [
        Prediction(t.relevant, t.platforms, t.legislation, t.topics[0] if t.relevant and t.topics else "not_relevant")
        for t in tagger.tag_many((e.title, e.text) for e in examples)
    ]


def folds(examples: Sequence[Example], k: int, seed: int) -> list[int]:
    """Fold number per example; examples of one ``group`` share a fold."""
    groups = sorted({e.group for e in examples})
    random.Random(seed).shuffle(groups)
    fold_of = {g: i % k for i, g in enumerate(groups)}
    return [fold_of[e.group] for e in examples]


def cross_validated_predictions(
    examples: Sequence[Example], k: int, seed: int = 0, builtin: bool = True, threshold: float | None = None
) -> list[Prediction]:
    """Re-train the weights on k-1 folds (+ our written examples) and predict the k-th."""
    from monitor.tagging import load_tagger
    from monitor.tagging.labelled import read_examples
    from monitor.tagging.topics import topics_for
    from monitor.tagging.train import BUILTIN_EXAMPLES, feature_rows, train_model

    tagger = load_tagger("prior")
    analyses = [a for _, a in tagger.analyse_many((e.title, e.text) for e in examples)]
    rows = [dict(a.features) for a in analyses]
    extra = read_examples(BUILTIN_EXAMPLES) if builtin and BUILTIN_EXAMPLES.is_file() else []
    extra_rows = feature_rows(extra) if extra else []
    assignment = folds(examples, k, seed)
    predictions: list[Prediction | None] = [None] * len(examples)
    for fold in range(k):
        train_idx = [i for i, f in enumerate(assignment) if f != fold]
        model = train_model(
            [examples[i] for i in train_idx] + list(extra), seed, [rows[i] for i in train_idx] + extra_rows
        )
        cut = model.threshold if threshold is None else threshold
        for i, f in enumerate(assignment):
            if f != fold:
                continue
            relevant = model.score(rows[i]) >= cut
            a = analyses[i]
            topic = topics_for(a)[0] if relevant else "not_relevant"
            predictions[i] = Prediction(relevant, tuple(a.platforms), tuple(a.legislation), topic)
    return [p for p in predictions if p is not None]


def evaluate(
    examples: Sequence[Example],
    model_path: str | None = None,
    threshold: float | None = None,
    cv: int = 0,
    seed: int = 0,
    builtin: bool = True,
) -> dict[str, Any]:
    """The full report (a JSON-able dict) for the tagger and the baseline."""
    if cv and cv > 1:
        predictions = cross_validated_predictions(examples, cv, seed, builtin, threshold)
        method = f"{cv}-fold cross-validation by group (seed {seed}); weights re-trained per fold"
    else:
        predictions = tagger_predictions(examples, model_path, threshold)
        method = f"model {model_path or 'packaged'} applied to every item"
    return {
        "items": len(examples),
        "relevant_items": sum(1 for e in examples if e.relevant),
        "method": method,
        "tagger": score(examples, predictions),
        "baseline": score(examples, baseline_predictions(examples)),
    }


def format_text(report: dict[str, Any]) -> str:
    """A plain-text report: figures side by side, then the topic confusion tables."""
    t, b = report["tagger"], report["baseline"]
    lines = [
        f"{report['items']} items ({report['relevant_items']} relevant); {report['method']}",
        "",
        f"{'':28}{'tagger':>10}{'baseline':>10}",
    ]
    for section, label in (
        ("relevance", "relevant"),
        ("platforms", "platforms (micro)"),
        ("legislation", "legislation (micro)"),
    ):
        for metric in ("precision", "recall", "f1"):
            lines.append(f"{label + ' ' + metric:28}{t[section][metric]:>10.3f}{b[section][metric]:>10.3f}")
    for name, result in (("tagger", t), ("baseline", b)):
        lines += ["", f"Confusion by gold topic ({name}): rows gold, columns predicted main topic"]
        positive = {k: v for k, v in result["confusion"].items() if not k.startswith(NEGATIVE_PREFIX)}
        negative = {k: v for k, v in result["confusion"].items() if k.startswith(NEGATIVE_PREFIX)}
        columns = (
            [c for c in TOPIC_COLUMNS if any(c in row for row in positive.values())]
            if name == "tagger"
            else ["relevant", "not_relevant"]
        )
        if name == "tagger":
            lines.append(f"{'':28}" + "".join(f"{c[:12]:>13}" for c in columns))
            for topic, row in positive.items():
                lines.append(f"{topic:28}" + "".join(f"{row.get(c, 0):>13}" for c in columns))
        else:
            lines.append(f"{'':28}{'relevant':>13}{'not_relevant':>13}")
            for topic, row in positive.items():
                hit = sum(v for k, v in row.items() if k != "not_relevant")
                lines.append(f"{topic:28}{hit:>13}{row.get('not_relevant', 0):>13}")
        lines.append(f"{'negatives':28}{'relevant':>13}{'not_relevant':>13}")
        for topic, row in negative.items():
            lines.append(f"{topic:28}{row.get('relevant', 0):>13}{row.get('not_relevant', 0):>13}")
        lines.append(f"false positives: {', '.join(result['false_positives']) or '-'}")
        lines.append(f"false negatives: {', '.join(result['false_negatives']) or '-'}")
    return "\n".join(lines)

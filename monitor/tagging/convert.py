"""Turn :class:`monitor.types.Tags` into JSON-able dicts and back.

The ``classify`` command prints these dicts and the store saves them, so the shape is
part of the public contract: plain lists, strings, numbers and booleans only.
"""

from __future__ import annotations

from typing import Any, Mapping

from monitor.types import Statistic, Tags


def statistic_to_dict(stat: Statistic) -> dict[str, Any]:
    return {"value": stat.value, "number": stat.number, "unit": stat.unit, "of": stat.of, "sentence": stat.sentence}


def statistic_from_dict(data: Mapping[str, Any]) -> Statistic:
    number = data.get("number")
    of = data.get("of")
    return Statistic(
        value=str(data.get("value", "")),
        number=float(number) if number is not None else None,
        unit=str(data.get("unit", "")),
        sentence=str(data.get("sentence", "")),
        of=str(of) if of else None,
    )


def tags_to_dict(tags: Tags) -> dict[str, Any]:
    """A JSON-able dict with every field of ``tags`` (tuples become lists)."""
    return {
        "relevant": tags.relevant,
        "score": tags.score,
        "topics": list(tags.topics),
        "platforms": list(tags.platforms),
        "legislation": list(tags.legislation),
        "organisations": list(tags.organisations),
        "statistics": [statistic_to_dict(s) for s in tags.statistics],
        "why": list(tags.why),
        "version": tags.version,
    }


def tags_from_dict(data: Mapping[str, Any]) -> Tags:
    """Inverse of :func:`tags_to_dict`; missing optional fields take their defaults."""
    return Tags(
        relevant=bool(data["relevant"]),
        score=float(data["score"]),
        topics=tuple(str(t) for t in data.get("topics", ())),
        platforms=tuple(str(p) for p in data.get("platforms", ())),
        legislation=tuple(str(x) for x in data.get("legislation", ())),
        organisations=tuple(str(o) for o in data.get("organisations", ())),
        statistics=tuple(statistic_from_dict(s) for s in data.get("statistics", ())),
        why=tuple(str(w) for w in data.get("why", ())),
        version=str(data.get("version", "")),
    )

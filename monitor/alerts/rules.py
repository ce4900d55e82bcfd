"""Priority rules: does an item match, and which stories does a batch of items alert.

Pure. A rule's tag lists each match when the item carries any value of the list
(case-insensitive); every list given must match; ``query`` is decided by the
full-text index and comes in as ``query_hits`` (the ids it matched). One alert per
story (a syndication cluster, or an item alone) and channel: copies from several
outlets are one alert, and a story several rules match is one alert naming them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from monitor.config import AlertRuleConfig
from monitor.digest.names import law_name, platform_name, topic_name


@dataclass(frozen=True)
class Candidate:
    """A stored item as a rule sees it: its story, its relevance and its tags
    (``tags[kind]`` = casefolded values; kinds as in ``item_tags``)."""

    id: str
    story: str  # the cluster id, else the item's own id
    relevant: bool | None
    tags: Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class StoryMatch:
    """A story that rules matched, for one channel: the rules (in config order) and the
    matching items of the batch."""

    story: str
    channel: str
    rules: tuple[str, ...]
    items: tuple[str, ...]


def matches(rule: AlertRuleConfig, item: Candidate, query_hit: bool = False) -> bool:
    """Whether ``item`` matches ``rule``; ``query_hit`` says whether its full-text query matched."""
    if rule.relevant_only and not item.relevant:
        return False
    for kind, wanted in rule.conditions.items():
        have = item.tags.get(kind, frozenset())
        if not any(value.casefold() in have for value in wanted):
            return False
    if rule.query.strip() and not query_hit:
        return False
    return True


def match_stories(rules: Sequence[AlertRuleConfig], items: Iterable[Candidate],
                  query_hits: Mapping[str, frozenset[str]] | None = None) -> list[StoryMatch]:
    """Group the items the rules match into one :class:`StoryMatch` per (story, channel),
    in the order the stories first matched. ``query_hits[rule name]`` = item ids whose
    text matched that rule's query."""
    hits = query_hits or {}
    found: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for item in items:
        for rule in rules:
            if not matches(rule, item, item.id in hits.get(rule.name, frozenset())):
                continue
            names, ids = found.setdefault((item.story, rule.channel), ([], []))
            if rule.name not in names:
                names.append(rule.name)
            if item.id not in ids:
                ids.append(item.id)
    order = {rule.name: index for index, rule in enumerate(rules)}
    return [StoryMatch(story, channel, tuple(sorted(names, key=order.__getitem__)), tuple(ids))
            for (story, channel), (names, ids) in found.items()]


def describe(rule: AlertRuleConfig) -> str:
    """What a rule asks for, in words: ``topics Sextortion; platforms Snapchat or Instagram``."""
    namers: dict[str, tuple[str, Callable[[str], str]]] = {
        "topic": ("topic", lambda v: topic_name(v.lower())), "platform": ("platform", lambda v: platform_name(v.lower())),
        "legislation": ("law", lambda v: law_name(v.lower())), "organisation": ("organisation", lambda v: v)}
    parts = []
    for kind, values in rule.conditions.items():
        label, namer = namers[kind]
        plural = label + ("s" if len(values) > 1 else "")
        parts.append(f"{plural} {' or '.join(namer(v) for v in values)}")
    if rule.query.strip():
        parts.append(f"text matching {rule.query.strip()!r}")
    if not rule.relevant_only:
        parts.append("relevant or not")
    return "; ".join(parts)


def find_rule(rules: Sequence[AlertRuleConfig], name: str) -> AlertRuleConfig | None:
    wanted = name.strip().casefold()
    return next((rule for rule in rules if rule.name.strip().casefold() == wanted), None)

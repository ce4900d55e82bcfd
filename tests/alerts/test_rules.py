"""Rule matching on an item's tags, and one match per story and channel (pure)."""

from __future__ import annotations

from monitor.alerts.rules import Candidate, describe, match_stories, matches
from monitor.config import AlertRuleConfig


def item(item_id: str, story: str | None = None, relevant: bool | None = True, **tags: list[str]) -> Candidate:
    return Candidate(item_id, story or item_id, relevant,
                     {kind: frozenset(v.casefold() for v in values) for kind, values in tags.items()})


SNAP = AlertRuleConfig(name="Snapchat sextortion", topics=("sextortion",), platforms=("Snapchat", "Instagram"))


def test_every_list_given_must_match_and_any_value_of_a_list_will_do():
    assert matches(SNAP, item("a", topic=["sextortion"], platform=["instagram"]))
    assert matches(SNAP, item("a", topic=["grooming", "sextortion"], platform=["snapchat", "x"]))
    assert not matches(SNAP, item("a", topic=["sextortion"]))  # no platform
    assert not matches(SNAP, item("a", topic=["grooming"], platform=["snapchat"]))


def test_relevant_only_by_default_and_the_query_decides_when_given():
    assert not matches(SNAP, item("a", relevant=False, topic=["sextortion"], platform=["snapchat"]))
    assert not matches(SNAP, item("a", relevant=None, topic=["sextortion"], platform=["snapchat"]))
    anything = AlertRuleConfig(name="All", organisations=("NSPCC",), relevant_only=False)
    assert matches(anything, item("a", relevant=False, organisation=["NSPCC"]))
    text = AlertRuleConfig(name="Charity", query='"Safe Harbour Trust"')
    assert matches(text, item("a"), query_hit=True) and not matches(text, item("a"), query_hit=False)


def test_one_match_per_story_and_channel_naming_every_rule():
    loud = AlertRuleConfig(name="Any sextortion", topics=("sextortion",), channel="webhook")
    items = [item("a", "story-1", topic=["sextortion"], platform=["snapchat"]),
             item("b", "story-1", topic=["sextortion"], platform=["snapchat"]),  # a copy from another outlet
             item("c", topic=["sextortion"]),
             item("d", topic=["grooming"], platform=["snapchat"])]
    found = match_stories([SNAP, loud], items)
    assert [(m.story, m.channel, m.rules, m.items) for m in found] == [
        ("story-1", "email", ("Snapchat sextortion",), ("a", "b")),
        ("story-1", "webhook", ("Any sextortion",), ("a", "b")),
        ("c", "webhook", ("Any sextortion",), ("c",)),
    ]
    both = AlertRuleConfig(name="Sextortion", topics=("sextortion",))
    assert [m.rules for m in match_stories([SNAP, both], items[:1])] == [("Snapchat sextortion", "Sextortion")]


def test_a_rule_in_words():
    assert describe(SNAP) == "topic Sextortion; platforms Snapchat or Instagram"
    rule = AlertRuleConfig(name="x", legislation=("online_safety_act_uk",), organisations=("Ofcom",),
                           query="children's codes", relevant_only=False)
    assert describe(rule) == ("law Online Safety Act (UK); organisation Ofcom; text matching \"children's codes\";"
                              " relevant or not")

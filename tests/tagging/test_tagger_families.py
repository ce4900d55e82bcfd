"""Regression families found on real text and on our demo corpus, each written as our own
invented example (tests/data/tagger_families.jsonl): the abuse sense of "groom" next to a
child and a court beats the coach/manager sense; safety features that limit contact between
adults and children; parents' guides about who children talk to; ages written "11yo";
sextortion advice for teenagers; the UK Act misnamed "Online Safety Act 2021"; and the
look-alikes that must stay out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FAMILIES_FILE = Path(__file__).resolve().parents[1] / "data" / "tagger_families.jsonl"
CASES = [json.loads(line) for line in FAMILIES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}-{c['case']}" for c in CASES])
def test_family(tagger: Any, case: dict[str, Any]) -> None:
    tags = tagger.tag(case["title"], case["text"])
    assert tags.relevant is case["relevant"], tags.why
    assert sorted(tags.platforms) == sorted(case["platforms"])
    assert sorted(tags.legislation) == sorted(case["legislation"])
    if case["relevant"]:
        assert case["topic"] in tags.topics, tags.topics


def test_a_child_and_a_court_beat_the_coach_sense(tagger: Any) -> None:
    crime = tagger.tag("", "The coach was jailed for grooming two boys in his under-14 team on Snapchat.")
    succession = tagger.tag("", "The head coach has been grooming his assistant as his successor for two seasons.")
    assert crime.relevant and "grooming" in crime.topics
    assert any("court" in reason for reason in crime.why), crime.why
    assert not any("succession" in reason for reason in crime.why), crime.why
    assert not succession.relevant
    assert any("succession" in reason for reason in succession.why), succession.why


def test_who_children_talk_to_needs_a_child(tagger: Any) -> None:
    child = tagger.tag("", "A guide for parents on checking who your child is talking to on Roblox.")
    adult = tagger.tag("", "A guide for streamers on blocking strangers in Twitch chat.")
    assert child.relevant and "child_online_safety" in child.topics
    assert any("who children talk to" in reason for reason in child.why), child.why
    assert not adult.relevant


def test_australian_act_2021_is_dropped_only_in_australian_items(tagger: Any) -> None:
    uk = tagger.tag("", "MPs were asked to repeal the Online Safety Act 2021 over its age checks for children.")
    au = tagger.tag("", "In Australia, the Online Safety Act 2021 gave eSafety new powers.")
    assert uk.legislation == ("online_safety_act_uk",)
    assert au.legislation == ()


def test_sextortion_advice_to_teenagers_is_about_minors(tagger: Any) -> None:
    teen = tagger.tag("", "Someone threatens to share your photos unless you pay? Tell a trusted adult and report it to CEOP.")
    adult = tagger.tag("", "The sextortion email claims your webcam recorded you and demands bitcoin for your password.")
    assert teen.relevant and "sextortion" in teen.topics
    assert not adult.relevant

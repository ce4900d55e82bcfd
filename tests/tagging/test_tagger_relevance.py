"""Relevance, topics and the disambiguation families, on sentences we wrote ourselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "tagger_cases.jsonl"
CASES = [json.loads(line) for line in CASES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}-{c['case']}" for c in CASES])
def test_case_file(tagger: Any, case: dict[str, Any]) -> None:
    tags = tagger.tag(case["title"], case["text"])
    assert tags.relevant is case["relevant"], tags.why
    assert 0.0 <= tags.score <= 1.0
    assert (tags.score >= tagger.threshold) is tags.relevant
    assert sorted(tags.platforms) == sorted(case["platforms"])
    assert sorted(tags.legislation) == sorted(case["legislation"])
    if case["relevant"]:
        assert tags.topics and tags.topics[0] == case["topic"], tags.topics
    else:
        assert tags.topics == ()


# Each family: a sentence that uses "groom" in another sense, and the sense the reasons must name.
FAMILIES = {
    "pet": ("Book a full groom for your spaniel: bath, nail clipping and a brush-out of the matted coat.", "pet"),
    "horse": ("Always groom the horse before tacking up, working the curry comb in small circles.", "pet"),
    "hair": ("A beard needs grooming every day: comb it, trim the stubble line and use a little oil.", "beard"),
    "teen_hygiene": (
        "Grooming for teenagers is mostly about hygiene: shower daily, wash your hair and use deodorant.",
        "hair",
    ),
    "ski": ("Piste bashers groom the slopes overnight so skiers wake up to fresh corduroy.", "ski"),
    "snowmobile": ("The club groomed 60 miles of snowmobile trail after the storm.", "ski"),
    "succession": (
        "The board spent five years grooming the finance director as the next CEO and successor.",
        "succession",
    ),
    "royal": ("The prince was groomed for the throne by his father the king.", "succession"),
    "wedding": ("The bride and groom cut the cake before the best man gave his speech.", "wedding"),
    "backlog": ("Backlog grooming keeps the sprint focused: the product owner orders the user stories.", "backlog"),
    "primate": (
        "Baboons spend hours grooming each other, removing parasites from the fur of the troop.",
        "social-grooming",
    ),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_other_senses_of_groom_are_not_relevant(tagger: Any, name: str) -> None:
    text, sense = FAMILIES[name]
    tags = tagger.tag("", text)
    assert not tags.relevant, tags.why
    assert any(sense in reason for reason in tags.why), tags.why


def test_groom_with_a_child_and_abuse_is_relevant(tagger: Any) -> None:
    tags = tagger.tag("", "The man groomed a 13-year-old girl on Snapchat and sent her sexual messages.")
    assert tags.relevant
    assert tags.topics[0] == "grooming"
    assert any("groom" in reason for reason in tags.why)


@pytest.mark.parametrize(
    "text",
    [
        "Discord raised $500 million at a valuation of $15 billion, investors said.",
        "TikTok Shop sellers can now run live shopping events and pay creators a commission.",
        "Instagram marketing tips: post reels at peak times and use trending audio to grow followers.",
        "The app says 70 percent of its users are 13 to 24, a market advertisers want to reach.",
    ],
)
def test_platform_business_is_not_relevant(tagger: Any, text: str) -> None:
    assert not tagger.tag("", text).relevant


def test_child_angle_turns_a_platform_item_relevant(tagger: Any) -> None:
    business = tagger.tag("", "Discord launched new profile themes and an emoji store for subscribers.")
    safety = tagger.tag(
        "",
        "Discord launched a Family Center so parents can see which servers their teens join, to protect children from predators.",
    )
    assert not business.relevant
    assert safety.relevant and "child_online_safety" in safety.topics
    assert business.platforms == safety.platforms == ("discord",)


@pytest.mark.parametrize(
    "text",
    [
        "'Hi mum, I've lost my phone' texts from fraudsters posing as children cost parents thousands.",
        "A sextortion email claims your webcam was hacked while you watched porn and asks for your password.",
        "The data protection authority fined WhatsApp 225 million euros under the GDPR over transparency.",
        "The Commission used the Digital Services Act against illegal products sold on a marketplace.",
    ],
)
def test_adult_scams_and_non_child_regulation_are_not_relevant(tagger: Any, text: str) -> None:
    assert not tagger.tag("", text).relevant


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        (
            "Police said the 35-year-old groomed a 12-year-old boy he met online and sent him sexual messages.",
            "grooming",
        ),
        ("The review found grooming gangs abused girls in the town for years while agencies looked away.", "grooming"),
        (
            "Teenage boys are being targeted by sextortion gangs who demand money after obtaining nude images.",
            "sextortion",
        ),
        ("The hotline took down thousands of pages of child sexual abuse material last year.", "csam"),
        ("Families sued Roblox, saying its design let predators contact children.", "child_online_safety"),
        ("The Online Safety Act requires platforms to use age checks to protect children.", "legislation"),
    ],
)
def test_main_topic(tagger: Any, text: str, topic: str) -> None:
    tags = tagger.tag("", text)
    assert tags.relevant, tags.why
    assert tags.topics[0] == topic, tags.topics


def test_grooming_gangs_topic_is_also_grooming(tagger: Any) -> None:
    tags = tagger.tag(
        "Grooming gangs inquiry", "The inquiry into grooming gangs will hear from survivors abused as children."
    )
    assert {"grooming", "grooming_gangs"} <= set(tags.topics)


def test_topics_are_multi_label(tagger: Any) -> None:
    tags = tagger.tag(
        "",
        "Under the Online Safety Act, Ofcom told Snapchat to stop sextortion of teenagers and remove child sexual abuse material.",
    )
    assert tags.topics[0] == "legislation"
    assert {"sextortion", "csam"} <= set(tags.topics)


def test_why_explains_the_score(tagger: Any) -> None:
    tags = tagger.tag("", "Dog grooming at home: brush the coat and trim the nails.")
    assert tags.why[-1].startswith("score ")
    assert any(reason.startswith("-") for reason in tags.why[:-1])


def test_empty_item_is_not_relevant(tagger: Any) -> None:
    tags = tagger.tag("", "")
    assert not tags.relevant and tags.platforms == () and tags.statistics == ()


@pytest.mark.parametrize(
    "text",
    [
        "Critics say the chairman abused his power by grooming his son to succeed him on the board.",
        "A man who raped a 19-year-old girl he met on a dating app was jailed for nine years.",
        "Hackers exploited a flaw in the messaging app used by millions of teenagers.",
        "Schools will teach children about relationships and sex education from the age of 11.",
    ],
)
def test_words_that_only_look_like_abuse_of_a_child(tagger: Any, text: str) -> None:
    tags = tagger.tag("", text)
    assert not tags.relevant, tags.why


def test_the_same_offence_against_a_child_is_relevant(tagger: Any) -> None:
    tags = tagger.tag("", "A man who raped a 14-year-old girl he met on a dating app was jailed for nine years.")
    assert tags.relevant, tags.why
    assert tags.topics[0] == "grooming"


SENTENCES = [
    line.split(" ", 1)
    for line in (Path(__file__).resolve().parents[1] / "data" / "tagger_sentences.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line[:2] in ("+ ", "- ")
]


@pytest.mark.parametrize(("sign", "text"), SENTENCES, ids=[t[:40] for _, t in SENTENCES])
def test_sentences(tagger: Any, sign: str, text: str) -> None:
    tags = tagger.tag("", text)
    assert tags.relevant is (sign == "+"), tags.why

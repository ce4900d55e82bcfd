"""Platforms (aliases, company vs service, the letter X), laws and organisations."""

from __future__ import annotations

from typing import Any

import pytest


def platforms(tagger: Any, text: str, title: str = "") -> tuple[str, ...]:
    return tagger.tag(title, text).platforms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He messaged her on Insta and then on WhatsApp.", ("instagram", "whatsapp")),
        ("Teens use IG and TikTok more than any other apps.", ("instagram", "tiktok")),
        ("The post spread on Twitter within minutes.", ("x",)),
        ("The video spread on X within minutes.", ("x",)),
        ("X, formerly Twitter, changed its rules.", ("x",)),
        ("Groups on FB and Instagram were used to contact minors.", ("facebook", "instagram")),
        ("She chatted with him on Facebook Messenger every night.", ("messenger",)),
        ("Kik Messenger lets users stay anonymous.", ("kik",)),
        (
            "Children play Roblox and Minecraft; some stream on Twitch or YouTube.",
            ("roblox", "minecraft", "twitch", "youtube"),
        ),
        ("Random video chat on Omegle paired strangers.", ("omegle",)),
        ("Photos were stored in iCloud and shared on Telegram.", ("icloud", "telegram")),
        ("Apps like WhatsApp and Signal use end-to-end encryption.", ("whatsapp", "signal")),
        ("Shoppers compared prices on Temu.", ("temu",)),
        ("The age checks apply to Pornhub and smaller sites.", ("pornhub",)),
        ("The thread on Reddit drew thousands of comments.", ("reddit",)),
    ],
)
def test_platform_names_and_aliases(tagger: Any, text: str, expected: tuple[str, ...]) -> None:
    assert platforms(tagger, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Generation X parents grew up without the internet.",
        "The X-ray showed no fracture.",
        "Malcolm X spoke in Oxford in 1964.",
        "Microsoft, Mojang, ByteDance and Google all reported results.",
        "Snap Inc. and Meta both report earnings this week.",
        "Kik Interactive is based in Ontario.",
        "A Signal failure closed the line, and the Signal Hill road was shut.",
        "The messenger service was popular in the 1990s.",
        "The decision could sow discord among members.",
    ],
)
def test_things_that_are_not_platforms(tagger: Any, text: str) -> None:
    assert platforms(tagger, text) == ()


def test_facebook_the_company_is_not_the_network(tagger: Any) -> None:
    # "Facebook said ..." names the company; only the service it talks about is tagged.
    assert platforms(tagger, "Facebook said it is rolling out the feature on Messenger first.") == ("messenger",)
    assert platforms(tagger, "Children were contacted on Facebook by adults.") == ("facebook",)


def test_platforms_come_from_the_text_not_the_title(tagger: Any) -> None:
    tags = tagger.tag("Snapchat grooming case", "A man groomed a girl of 13 online and was jailed.")
    assert tags.platforms == ()
    assert tags.relevant


def test_platform_ids_are_canonical_and_unique(tagger: Any) -> None:
    tags = tagger.tag("", "Instagram, Insta, IG and instagram all mean one app; Instagram again.")
    assert tags.platforms == ("instagram",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Online Safety Act 2023 is now in force.", ("online_safety_act_uk",)),
        ("The Online Safety Bill returns to Parliament.", ("online_safety_act_uk",)),
        ("The Online Harms White Paper proposed a duty of care.", ("online_safety_act_uk",)),
        ("The Kids Online Safety Act (KOSA) passed the Senate.", ("kosa_us",)),
        ("The FTC enforces COPPA, the Children's Online Privacy Protection Act.", ("coppa_us",)),
        ("COPPA 2.0 would cover teens up to 16.", ("coppa_us",)),
        ("Critics call the proposal chat control.", ("eu_csam_regulation",)),
        ("The Child Sexual Abuse Regulation is stuck in the Council.", ("eu_csam_regulation",)),
        ("The EU's Digital Services Act protects minors online.", ("dsa_eu",)),
        ("Australia's social media minimum age starts in December.", ("other",)),
    ],
)
def test_laws(tagger: Any, text: str, expected: tuple[str, ...]) -> None:
    assert tagger.tag("", text).legislation == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ofcom published its Protection of Children Codes today.",
        "He was charged under the Protection of Children Act 1978.",
        "The fine was issued under the GDPR and UK data protection law.",
        "Campaigners want online harms legislation as soon as possible.",
        "Australia's Online Safety Act 2021 gives the eSafety Commissioner powers.",
        "Lawmakers debated online safety bills for kids.",
    ],
)
def test_laws_that_are_not_tagged(tagger: Any, text: str) -> None:
    assert tagger.tag("", text).legislation == ()


def test_organisations(tagger: Any) -> None:
    tags = tagger.tag(
        "",
        "The NSPCC and the Internet Watch Foundation briefed Ofcom, and Greater Manchester Police "
        "worked with the National Crime Agency; Meta and Snap Inc. were asked to respond.",
    )
    for name in ("NSPCC", "IWF", "Ofcom", "Greater Manchester Police", "NCA", "Meta", "Snap Inc."):
        assert name in tags.organisations
    assert tags.platforms == ()


@pytest.mark.parametrize(
    ("text", "expected", "org"),
    [
        ("Facebook and Instagram owner Meta was sued by the states.", ("facebook", "instagram"), "Meta"),
        ("Meta-owned WhatsApp is end-to-end encrypted.", ("whatsapp",), "Meta"),
        ("Facebook has announced new rules for groups.", (), None),
    ],
)
def test_owners_and_services(tagger: Any, text: str, expected: tuple[str, ...], org: str | None) -> None:
    tags = tagger.tag("", text)
    assert tags.platforms == expected
    if org:
        assert org in tags.organisations

"""Quoted figures: value, number, unit and sentence; dates, ages and years are not figures."""

from __future__ import annotations

from typing import Any

from monitor.tagging.stats import extract_statistics


def by_value(text: str) -> dict[str, tuple[float | None, str]]:
    return {s.value: (s.number, s.unit) for s in extract_statistics(text)}


def test_counts_percentages_and_money() -> None:
    found = by_value("Police recorded 1,220 offences; 37% of cases involved one app, and fines reached €20 million.")
    assert found["1,220"] == (1220.0, "offences")
    assert found["37%"] == (37.0, "%")
    assert found["€20 million"] == (20_000_000.0, "EUR")


def of(text: str) -> dict[str, str | None]:
    return {s.value: s.of for s in extract_statistics(text)}


def test_what_a_percentage_or_a_sum_is_of() -> None:
    found = of("Police recorded 1,220 offences; 37% of cases involved one app, and Ofcom can impose €20 million fines.")
    assert found == {"1,220": None, "37%": "cases", "€20 million": "fines"}  # a count's unit says what it counts
    assert of("Meta got a fine of £18 million. It paid £5m in damages.") == {"£18 million": "fine", "£5m": "damages"}
    assert of("In 40% of all reported grooming offences, and 60% of Instagram's users.") == {
        "40%": "offences", "60%": "users"}


def test_nothing_is_of_when_the_text_does_not_say() -> None:
    found = of("Sales fell 22 per cent, 40% on Snapchat, 25% of the time, and it paid US$5 million, then more.")
    assert found == {"22 per cent": None, "40%": None, "25%": None, "US$5 million": None}


def test_units_skip_adjectives_between_number_and_noun() -> None:
    assert by_value("There were 7,263 online grooming offences.")["7,263"] == (7263.0, "offences")


def test_other_currencies_and_per_cent() -> None:
    found = by_value("It was fined £12.7m, paid US$5 million and sales fell 22 per cent.")
    assert found["£12.7m"] == (12_700_000.0, "GBP")
    assert found["US$5 million"] == (5_000_000.0, "USD")
    assert found["22 per cent"] == (22.0, "%")


def test_dates_years_and_ages_are_not_statistics() -> None:
    text = "On 8 May 2024, a 13-year-old aged 14-18 in 2019 read Article 28 about 2022/23."
    assert extract_statistics(text) == ()


def test_sentence_is_the_one_holding_the_figure() -> None:
    (stat,) = extract_statistics("First sentence here. The charity counted 5,000 reports last year. Another one.")
    assert stat.sentence == "The charity counted 5,000 reports last year."


def test_tagger_adds_statistics_to_every_item(tagger: Any) -> None:
    relevant = tagger.tag(
        "", "The NSPCC said 7,263 online grooming offences against children were recorded, 40% on Snapchat."
    )
    assert {s.value for s in relevant.statistics} >= {"7,263", "40%"}
    # decided for every item, like platforms; the digest and the views show relevant items' only
    pets = tagger.tag("", "Dog grooming prices rose 12% and 3,000 groomers opened new salons.")
    assert not pets.relevant and [(s.value, s.unit) for s in pets.statistics] == [("12%", "%"), ("3,000", "groomers")]


def test_named_offence_categories_between_number_and_unit() -> None:
    found = by_value("Police recorded 7,062 Sexual Communication with a Child offences last year.")
    assert found["7,062"] == (7062.0, "offences")


def test_over_a_number_is_still_a_figure_but_ages_are_not() -> None:
    found = by_value("Over 300 new abuse reports were made. Users under 18 and over 18 can vote.")
    assert found == {"300": (300.0, "reports")}

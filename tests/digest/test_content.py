"""What the campaign team reads: the digest built from a realistic tagged database.

The newsroom (tests/digest/scenario.py) has a wire story carried by four outlets,
grooming cases, a grooming-gangs story that began the day before, two laws, abuse
imagery, Reddit threads, noise (irrelevant, untagged, deleted upstream), 55 days of
history, and sources that are failing, gone and silent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config import DigestConfig
from monitor.digest.build import source_problems
from monitor.store.digest import SourceRow
from tests.digest.conftest import open_newsroom
from tests.digest.scenario import DAY, NEWS_TODAY, NOW, REDDIT_TODAY


@pytest.fixture(scope="module")
def built(newsroom_template, tmp_path_factory):
    with open_newsroom(newsroom_template, tmp_path_factory.mktemp("built")) as app:
        yield app.build_digest()


def story_titles(digest):
    return [s.title for section in digest.topics for s in section.stories]


def test_default_digest_is_for_the_day_that_just_ended(built):
    assert built.day == DAY
    assert built.digest.complete
    assert built.html_path.name == "digest.html" and built.html_path.parent.name == DAY.isoformat()


def test_headline_counts_relevant_items_against_the_seven_day_average(built):
    head = built.digest.headline
    assert head.relevant == NEWS_TODAY + REDDIT_TODAY
    by_media = {m.media: (m.today, m.average) for m in head.by_media}
    # the week before: one grooming case a day, and yesterday's copy of the grooming-gangs story
    assert by_media["news"] == (NEWS_TODAY, pytest.approx(8 / 7))
    assert by_media["reddit"] == (REDDIT_TODAY, 0.0)
    assert head.average == pytest.approx(8 / 7) and head.average_days == 7
    assert head.untagged == 1  # the beard-grooming item the tagger has not seen yet
    assert head.collected == NEWS_TODAY + REDDIT_TODAY + 1 + 2 + 1  # + untagged, 2 irrelevant, 1 irrelevant Reddit
    assert head.busiest == "Grooming"


def test_each_syndicated_story_appears_once_with_its_outlets(built):
    titles = story_titles(built.digest)
    nca = [t for t in titles if t.startswith("Sextortion reports involving teenage boys")]
    assert nca == ["Sextortion reports involving teenage boys rise sharply, NCA says"]  # outlet suffixes stripped
    story = next(s for section in built.digest.topics for s in section.stories if s.title == nca[0])
    assert story.outlets == 4
    assert [link.outlet for link in story.links] == ["Wirecast", "Northshire Gazette", "The Daily Lantern",
                                                     "Harbourton Echo"]
    assert all(link.url and link.url.startswith("https://") for link in story.links)
    assert story.main_topic == "sextortion" and story.platforms == ("Instagram", "Snapchat")


def test_stories_are_grouped_by_main_topic_most_widely_carried_first(built):
    sections = {s.name: s for s in built.digest.topics}
    assert list(sections) == ["Grooming", "Grooming gangs", "Sextortion", "Abuse imagery", "Legislation"]
    grooming = [s.title for s in sections["Grooming"].stories]
    assert grooming == ["Youth worker jailed for grooming girl, 12, he contacted on Instagram",  # newest first
                        "Man jailed for grooming 13-year-old girl he met on Snapchat"]
    gangs = sections["Grooming gangs"].stories[0]
    assert gangs.outlets == 2 and gangs.first_reported == DAY - timedelta(days=1)  # a copy came out the day before
    assert gangs.other_topics == ("Grooming",)


def test_noise_never_reaches_the_digest(built):
    everything = built.html + built.text
    for noise in ("dog groomer", "Meta shares", "beard grooming", "Withdrawn story", "lunchbox", "CEOP straight away"):
        assert noise not in everything, noise
    assert "Reddit" not in [s.media for section in built.digest.topics for s in section.stories]


def test_platform_shares_count_news_stories_not_copies(built):
    platforms = built.digest.platforms
    # today: three grooming stories in the news (two cases, and the grooming-gangs story)
    assert (platforms.today_total, platforms.recent_total, platforms.previous_total) == (3, 30, 28)
    rows = {r.name: r for r in platforms.rows}
    assert (rows["Snapchat"].today, rows["Snapchat"].recent) == (1, 28)
    assert rows["Snapchat"].today_share == pytest.approx(1 / 3)
    # the 28 days before: Snapchat only on their last day, Instagram on every other day
    assert rows["Snapchat"].change == pytest.approx(100 * (28 / 30 - 1 / 28))
    assert rows["Instagram"].previous_share == pytest.approx(14 / 28)
    assert "Snapchat named in 33% of grooming stories today (1 of 3); 93% over the last 28 days." in " ".join(
        built.html.split()).replace("<strong>", "").replace("</strong>", "")
    lines = built.text.splitlines()
    assert "- Snapchat: 33% today (1); 93% over 28 days (28); +90 pts on the 28 days before" in lines
    platform_lines = [line for line in lines if line.startswith("- ") and " today (" in line]
    assert len(platform_lines) == len(platforms.rows)  # one line per platform, never run together
    assert "== Legislation ==" in lines


def test_laws_figures_and_reddit_threads(built):
    digest = built.digest
    assert [(law.name, len(law.stories)) for law in digest.laws] == [
        ("Kids Online Safety Act (US)", 1), ("Online Safety Act (UK)", 1)]
    first = digest.figures[0]
    assert first.values == ("46%", "1,284") and [link.outlet for link in first.links] == [
        "Wirecast", "Northshire Gazette", "The Daily Lantern", "Harbourton Echo"]
    assert [f.value for f in digest.figures] == ["46%, 1,284", "double", "37% of cases", "12"]
    assert [(t.comments, t.community) for t in digest.threads] == [(402, "r/Parenting"), (311, "r/Parenting"),
                                                                  (142, "r/Parenting")]


def test_figures_say_what_they_are_of_and_come_from_relevant_items_only(built):
    text, html = built.text, built.html
    # "37%" alone cannot be checked; what it is a percentage of is part of the figure
    assert '37% of cases: "Snapchat was named in 37% of cases the force recorded."' in text
    assert "37% of cases" in html
    # the dog groomer's 40% is stored (figures of every item are kept) but is not relevant
    assert "40%" not in text and "40%" not in html


def test_source_health_lists_gone_failing_and_silent_sources_only(built):
    problems = built.digest.health.problems
    health = [(p.state, p.name) for p in problems]
    assert health == [("gone", "Old Council Feed"), ("failing", "Courtside Weekly"), ("silent", "Brussels Ledger")]
    failing = problems[1]
    assert "Failing since Fri 27 Nov 19:30 (3 failed attempts in a row)" in failing.summary
    assert "next try Sat 28 Nov 09:30" in failing.summary and failing.detail == "HTTP 503 Service Unavailable"
    assert "No new items for 4 days (usually one every 6 hours)" in problems[2].summary
    summary = ("3 of 10 sources need attention (1 gone, 1 failing, 1 silent); the other 7 are working normally.")
    assert built.digest.health.summary == summary
    assert summary in built.text and summary in " ".join(built.html.split())
    assert "working normally." not in built.text.replace(summary, "")  # never "all is well" beside problems


def test_subject_is_our_words_and_counts(built):
    assert built.subject == ("Online child safety briefing, Sat 28 Nov 2026: 14 relevant items, 7 top stories;"
                             " busiest topic: Grooming")


def test_building_again_rerenders_the_archive_and_updates_the_record(newsroom_app):
    with newsroom_app() as app:
        first = app.build_digest()
        first.html_path.write_text("stale", encoding="utf-8")
        second = app.build_digest()
        assert second.html_path == first.html_path and "Top stories" in second.html_path.read_text("utf-8")
        rows = app.store.db.execute("SELECT date, status, relevant_items, stories, html_path FROM digests").fetchall()
        assert rows == [(DAY.isoformat(), "built", 14, 7, str(first.html_path))]


def test_out_dir_gets_a_copy(newsroom_app, tmp_path):
    with newsroom_app() as app:
        result = app.build_digest(out_dir=tmp_path / "preview")
    names = sorted(p.name for p in (tmp_path / "preview").iterdir())
    assert names == ["chart.png", "digest.html", "digest.txt"] and len(result.copies) == 3


def test_a_day_still_running_is_built_as_a_preview(newsroom_app):
    with newsroom_app(clock=lambda: NOW + timedelta(hours=3)) as app:
        result = app.build_digest(DAY + timedelta(days=1))
    assert not result.digest.complete
    assert "(preview, day not over)" in result.subject and "Preview." in result.html


# --- source health rules, pure ---------------------------------------------------------------

def row(**values):
    base = dict(id="feed:x", name="X", kind="feed", created_at=NOW - timedelta(days=60), failures=0, last_error=None,
                last_error_at=None, last_success_at=NOW - timedelta(minutes=30), next_due_at=None, gone_at=None,
                failing_since=None, items=50, usual_gap_hours=2.0, last_item_at=NOW - timedelta(hours=5))
    base.update(values)
    return SourceRow(**base)


@pytest.mark.parametrize(("values", "state"), [
    ({}, None),  # quiet for 5 h, usually every 2 h: under the 24 h floor
    ({"last_item_at": NOW - timedelta(hours=30)}, "silent"),  # 30 h > max(3 x 2 h, 24 h)
    ({"usual_gap_hours": 12.0, "last_item_at": NOW - timedelta(hours=30)}, None),  # 30 h < 3 x 12 h
    ({"usual_gap_hours": 12.0, "last_item_at": NOW - timedelta(hours=40)}, "silent"),
    ({"items": 3, "last_item_at": NOW - timedelta(days=9)}, None),  # too little history to judge
    ({"items": 0, "last_item_at": None, "usual_gap_hours": None}, "silent"),  # answers, but never any items
    ({"items": 0, "last_item_at": None, "usual_gap_hours": None, "created_at": NOW - timedelta(days=2)}, None),
    ({"items": 0, "last_item_at": None, "usual_gap_hours": None, "carried_recently": True}, None),
    ({"items": 0, "last_item_at": None, "usual_gap_hours": None, "last_success_at": None}, None),  # failing instead
    # nothing ever collected (no success, no item, no run that worked): after silent_min_hours since it was added
    ({"items": 0, "last_item_at": None, "usual_gap_hours": None, "last_success_at": None, "collected": False},
     "never"),
    ({"items": 0, "last_item_at": None, "usual_gap_hours": None, "last_success_at": None, "collected": False,
      "created_at": NOW - timedelta(hours=20)}, None),
    ({"items": 0, "last_item_at": None, "last_success_at": None, "collected": False, "failures": 4,
      "failing_since": NOW - timedelta(days=3), "last_error": "HTTP 403"}, "failing"),
    ({"failures": 2, "failing_since": NOW - timedelta(hours=3), "last_error": "timed out"}, "failing"),
    ({"gone_at": NOW - timedelta(days=1)}, "gone"),
])
def test_source_health_rules(values, state):
    problems = source_problems([row(**values)], NOW, DigestConfig())
    assert [p.state for p in problems] == ([state] if state else [])

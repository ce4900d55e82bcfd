"""Stories across source types: the numbers on the page agree with each other.

A Reddit post or a speech in Parliament can land in the same syndication cluster as
the news story it quotes (same headline, same lead), and a Mastodon post can share a
headline before any outlet does. Reddit and Parliament have sections of their own: the
news story must still be in Top stories, told once, with its outlets; the headline's
story count and busiest topic must be what the topic sections show. Every outlet,
member, post and headline here is invented.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.app import Monitor
from monitor.config import config_from_dict
from monitor.digest.render import plural
from monitor.store import open_store
from tests.digest.builder import DigestDB, feed_url

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=timezone.utc)  # the digest for Sat 28 Nov is due
JAILED = "Man jailed for grooming 13-year-old girl he met on Snapchat"
OFCOM = "Ofcom told to speed up enforcement of children's codes"
SEXTORTION = "Police warn parents about sextortion gangs targeting teenage boys"
FEEDS = ["Northshire Gazette", "The Daily Lantern"]


def mixed_newsroom(path) -> None:
    db = DigestDB(path, NOW)
    gazette, lantern = (db.source(name) for name in FEEDS)
    sub = db.source("r/ukpolitics", kind="reddit_subreddit", url="https://reddit.test/r/ukpolitics")
    parenting = db.source("r/Parenting", kind="reddit_subreddit", url="https://reddit.test/r/Parenting")
    hansard = db.source("Hansard: online safety", kind="hansard", url="https://hansard.test/search")
    mastodon = db.source("Mastodon #OnlineSafety", kind="mastodon", url="https://social.test/tags/OnlineSafety")

    # 1. a Reddit post of the headline came first; two outlets carry the story after it
    db.item(sub, JAILED, hours_ago=5, topics=["grooming"], platforms=["snapchat"], cluster="c-jailed",
            extra={"subreddit": "ukpolitics"}, url="https://reddit.test/r/ukpolitics/comments/aaa111/jailed/")
    db.item(gazette, JAILED, hours_ago=4.9, topics=["grooming"], platforms=["snapchat"], cluster="c-jailed")
    db.item(lantern, JAILED + " | The Daily Lantern", hours_ago=4.5, topics=["grooming"], platforms=["snapchat"],
            cluster="c-jailed")
    db.cluster("c-jailed", JAILED, NOW - timedelta(hours=5), 3, 3)

    # 2. a minister's words in Parliament, then the news report quoting them
    sitting = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
    db.item(hansard, "Nadia Quill (Lab) \u2014 Online Safety Act: Enforcement", at=sitting,
            text=f"{OFCOM}. The Minister said Ofcom would act.", topics=["legislation"],
            laws=["online_safety_act_uk"], cluster="c-ofcom", item_id="hansard:0f0f0f0f",
            url="https://hansard.test/Commons/2026-11-27/debates/ABC/OnlineSafety#contribution-0f0f",
            extra={"house": "Commons", "member": "Nadia Quill", "party": "Lab", "debate": "Online Safety Act",
                   "debate_id": "ABC", "sitting_date": "2026-11-27", "order": 1})
    db.item(gazette, OFCOM, hours_ago=3, topics=["legislation"], laws=["online_safety_act_uk"], cluster="c-ofcom")
    db.cluster("c-ofcom", "Nadia Quill (Lab) \u2014 Online Safety Act: Enforcement", sitting, 2, 2)
    db.item(lantern, "Senate committee advances Kids Online Safety Act again", hours_ago=14,
            topics=["legislation"], laws=["kosa_us"])

    # 3. a Mastodon post shared the headline before the outlet published it
    db.item(mastodon, SEXTORTION, hours_ago=6, topics=["sextortion"], cluster="c-sextortion",
            url="https://social.test/@parentsgroup/1177", extra={"network": "mastodon"})
    db.item(gazette, SEXTORTION, hours_ago=2, topics=["sextortion"], cluster="c-sextortion")
    db.cluster("c-sextortion", SEXTORTION, NOW - timedelta(hours=6), 2, 2)

    # 4. a busy day on Reddit for grooming: threads, not news stories
    for n, title in enumerate(["Is this grooming? My son's 'friend' on Roblox", "Snapchat Quick Add worries me",
                               "What did your school tell you about grooming?"]):
        db.item(parenting, title, hours_ago=8 + n, topics=["grooming"], platforms=["snapchat"], comments=40 - n,
                score=100, extra={"subreddit": "Parenting"})
    db.close()


def build(folder, **digest):
    path = folder / "monitor.db"
    if not path.exists():
        mixed_newsroom(path)
    config = config_from_dict({
        "storage": {"path": str(path)}, "digest": {"archive_dir": str(folder / "archive"), **digest},
        "feeds": [{"name": name, "url": feed_url(name)} for name in FEEDS]}, "test.toml")
    with Monitor(config, open_store(path), clock=lambda: NOW) as app:
        return app.build_digest(NOW.date())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("mixed"))


def stories(digest):
    return {s.title: s for section in digest.topics for s in section.stories}


def assert_counts_agree(built) -> None:
    """What a reader can add up on the page adds up."""
    digest, text = built.digest, built.text
    head = digest.headline
    assert head.stories == sum(section.total for section in digest.topics)
    if digest.topics:
        busiest = max(digest.topics, key=lambda section: section.total)  # the first of equals, in section order
        assert (head.busiest, head.busiest_stories) == (busiest.name, busiest.total)
        assert f"Busiest topic: {busiest.name} ({plural(busiest.total, 'story', 'stories')})." in text
    for section in digest.topics:
        assert f"-- {section.name.upper()} ({plural(section.total, 'story', 'stories')}) --" in text
        for story in section.stories:
            assert story.media not in ("reddit", "parliament")
            assert not any(link.outlet.startswith("r/") for link in story.links)


def test_a_news_story_stays_in_top_stories_when_a_reddit_post_of_it_came_first(built):
    story = stories(built.digest)[JAILED]
    assert story.outlet == "Northshire Gazette" and story.outlets == 2
    assert [link.outlet for link in story.links] == ["Northshire Gazette", "The Daily Lantern"]
    assert story.url.startswith("https://northshire-gazette.example/")
    # the Reddit post is a thread in its own section, not a copy of the news story
    assert JAILED in [t.title for t in built.digest.threads]
    top = built.text[built.text.index("== Top stories =="):built.text.index("== In Parliament ==")]
    assert f"* {JAILED}" in top and "reddit.test" not in top and "carried by 2 outlets" in top


def test_a_news_report_of_a_speech_stays_in_top_stories(built):
    story = stories(built.digest)[OFCOM]
    assert story.outlet == "Northshire Gazette" and story.outlets == 1 and story.laws == ("Online Safety Act (UK)",)
    assert "Nadia Quill" not in " ".join(link.outlet for link in story.links)
    law = next(law for law in built.digest.laws if law.id == "online_safety_act_uk")
    assert [s.title for s in law.stories] == [OFCOM]  # Parliament has its own section


def test_a_social_post_sharing_a_headline_first_is_another_outlet_of_the_news_story(built):
    story = stories(built.digest)[SEXTORTION]
    assert story.outlet == "Northshire Gazette" and story.media == "news"  # the news copy leads
    assert [link.outlet for link in story.links] == ["Northshire Gazette", "Mastodon (social.test)"]
    assert len([s for s in stories(built.digest).values() if s.title == SEXTORTION]) == 1


def test_headline_counts_and_the_busiest_topic_are_what_the_sections_show(built):
    digest = built.digest
    assert [(s.name, s.total) for s in digest.topics] == [("Grooming", 1), ("Sextortion", 1), ("Legislation", 2)]
    head = digest.headline
    # four Reddit threads about grooming are threads, not stories: Legislation is the busiest topic
    assert (head.stories, head.busiest, head.busiest_stories) == (4, "Legislation", 2)
    assert {m.media: m.today for m in head.by_media} == {"news": 5, "reddit": 4, "parliament": 1, "social": 1}
    assert built.subject.endswith(": 11 relevant items, 4 top stories; busiest topic: Legislation")
    assert_counts_agree(built)


def test_platform_shares_count_the_stories_the_digest_shows(built, tmp_path):
    # grooming stories in the news today: the one in the Grooming section, wherever its cluster began
    platforms = built.digest.platforms
    assert platforms.today_total == 1 == len([s for s in stories(built.digest).values()
                                              if "grooming" in s.topic_ids and s.media == "news"])
    assert {r.name: r.today for r in platforms.rows} == {"Snapchat": 1}
    # counting Reddit too: the news story and each of the four threads (the first shares its cluster)
    with_reddit = build(tmp_path, platform_media=["news", "reddit"]).digest.platforms
    assert with_reddit.today_total == 1 + 4
    assert {r.name: r.today for r in with_reddit.rows} == {"Snapchat": 5}


def test_the_newsrooms_counts_agree(newsroom_app):
    with newsroom_app() as app:
        assert_counts_agree(app.build_digest())


def test_a_long_running_process_shows_an_outlet_as_it_is_stored_now(tmp_path):
    """The service builds a digest a day in one process: an item's outlet must come from
    the database each time, not from what an earlier build saw."""
    path = tmp_path / "monitor.db"
    db = DigestDB(path, NOW)
    search = db.source("Grooming search", kind="query", url="https://search.test/rss?q=grooming")
    item = db.item(search, "Council apologises over grooming review", hours_ago=2, topics=["grooming"],
                   extra={"publisher": "Harbour Times"})
    db.close()
    config = config_from_dict({"storage": {"path": str(path)}, "digest": {"archive_dir": str(tmp_path / "a")},
                               "queries": [{"name": "Grooming search", "terms": "grooming"}]}, "test.toml")
    with Monitor(config, open_store(path), clock=lambda: NOW) as app:
        first = app.build_digest(NOW.date())
        with app.store.db.conn:  # the search later names the outlet as it calls itself
            app.store.db.execute("UPDATE items SET extra = ? WHERE id = ?", ['{"publisher": "Harbourton Echo"}', item])
        second = app.build_digest(NOW.date())
    assert [s.outlet for s in first.digest.topics[0].stories] == ["Harbour Times"]
    assert [s.outlet for s in second.digest.topics[0].stories] == ["Harbourton Echo"]

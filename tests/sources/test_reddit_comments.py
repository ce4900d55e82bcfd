"""Optional Reddit comments ([reddit] comments = true): the top-level comments of posts
the tagger found relevant, fetched once, stored as items, hashed and purged like posts.

The tagger is not part of these tests: a small keyword tag function stands in for it
through the same ``tag`` callback the real tagger uses.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

from monitor.app import open_monitor
from monitor.privacy import load_hash_key
from monitor.sources.normalise import author_hash
from monitor.types import Tags
from tests.conftest import shared_path
from tests.helpers import our_reddit_posts, reddit_section, rows


def keyword_tagger(word: str):
    """Relevant when ``word`` is in the title or text (a stand-in for the real tagger)."""

    def tag(items):
        return {item.id: Tags(relevant=word in f"{item.title} {item.text}".lower(), score=1.0, version="kw")
                for item in items}

    return tag


@pytest.mark.shared
def test_recorded_comments_of_a_relevant_post_are_stored_once(reddit_api, make_config):
    cassette = shared_path("fixtures", "reddit", "cassettes", "praw__TestMore.test_comments.json")
    exchanges = reddit_api.load_cassette(cassette)
    answer = next(e for e in exchanges if e.path == "/comments/3hahrw/")
    post = json.loads(answer.response.body)[0]["data"]["children"][0]["data"]
    reddit_api.add_post(post)  # r/funny lists the post; the comments come from the recording
    now = datetime(2015, 8, 17, 12, 0, tzinfo=timezone.utc)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "funny"}], comments=True,
                                               comments_per_post=20))
    with open_monitor(config, clock=lambda: now, tag=keyword_tagger("tsss")) as monitor:
        report = monitor.collect()
        assert report.results[0].new == 1
        assert report.notes == ["Reddit comments: 20 new from 1 relevant post(s)"]
        comments = rows(monitor, "SELECT * FROM items WHERE id LIKE 't1_%' ORDER BY published_at")
        assert len(comments) == 20
        first = rows(monitor, "SELECT * FROM items WHERE id = 't1_cu5pebp'")[0]
        assert first["text"].startswith("Man I am glad there isn't some")
        assert first["author"] == author_hash("johnnwho", load_hash_key(config.storage.path))
        assert first["url"].startswith(f"{reddit_api.base_url}/r/funny/comments/3hahrw/ba_dum_tsss/cu5pebp")
        assert first["popularity"] == 1135 and first["media"] == "reddit" and first["source_id"] == "reddit_subreddit:funny"
        extra = json.loads(first["extra"])
        assert extra == {"kind": "comment", "parent": "t3_3hahrw", "parent_title": "Ba Dum Tsss", "subreddit": "funny"}

        again = monitor.collect(force=True)
        assert again.notes == []  # fetched once
    (call,) = reddit_api.api_calls("/comments/3hahrw")
    sent = {k: v[0] for k, v in parse_qs(call.query).items()}
    assert sent["depth"] == "1" and sent["sort"] == "top"


def test_our_comments_top_level_by_people_only_and_purged_like_posts(reddit_api, make_config):
    now, posts = our_reddit_posts()
    for post in posts:
        reddit_api.add_post(post)
    base = now.timestamp() - 600
    people = [("c1", "helpful_parent_ours", 40, "Report it to CEOP and keep screenshots."),
              ("c2", "another_parent_ours", 25, "Snapchat has a report button on the profile."),
              ("c3", "third_parent_ours", 5, "Talk to the school as well.")]
    for cid, author, score, body in people:
        reddit_api.add_comment("t3_1qz9a01", {"id": f"k{cid}", "author": author, "score": score, "body": body,
                                              "body_html": f'<div class="md"><p>{body}</p></div>',
                                              "created_utc": base, "subreddit": "Parenting",
                                              "permalink": f"/r/Parenting/comments/1qz9a01/x/k{cid}/"})
    reddit_api.add_comment("t3_1qz9a01", {"id": "kbot", "author": "AutoModerator", "score": 99, "stickied": True,
                                          "body": "Reminder: be kind.", "created_utc": base, "permalink": "/x/kbot/"})
    reddit_api.add_comment("t3_1qz9a01", {"id": "kgone", "author": "[deleted]", "score": 80, "body": "[deleted]",
                                          "created_utc": base, "permalink": "/x/kgone/"})
    reddit_api.add_comment("t3_1qz9a01", {"id": "kreply", "author": "replier_ours", "score": 70, "body": "A reply.",
                                          "parent_id": "t1_kc1", "created_utc": base, "permalink": "/x/kreply/"})
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}], comments=True,
                                               comments_per_post=2))
    with open_monitor(config, clock=lambda: now, tag=keyword_tagger("snapchat")) as monitor:
        report = monitor.collect()
        assert report.notes == ["Reddit comments: 2 new from 1 relevant post(s)"]  # only t3_1qz9a01 is relevant
        stored = {r["id"]: r for r in rows(monitor, "SELECT * FROM items WHERE id LIKE 't1_%'")}
        assert set(stored) == {"t1_kc1", "t1_kc2"}  # the best two by people; no bot, deleted or reply
        assert stored["t1_kc1"]["title"] == "Report it to CEOP and keep screenshots."
        assert stored["t1_kc2"]["relevant"] == 1 and stored["t1_kc1"]["relevant"] == 0  # tagged like posts
        assert b"helpful_parent_ours" not in json.dumps(stored, default=str).encode()

        # Deleted upstream: a comment is purged by the re-check; a deleted post takes its
        # title out of its comments.
        reddit_api.delete("t1_kc1")
        reddit_api.delete("t3_1qz9a01")
        monitor.clock = lambda: now + timedelta(hours=1)
        result = monitor.recheck()
        assert result.purged == 2 and result.checked == 6
        assert rows(monitor, "SELECT title, text, deleted_at FROM items WHERE id = 't1_kc1'") == [
            {"title": "", "text": "", "deleted_at": "2026-03-02T13:00:00Z"}]
        survivor = rows(monitor, "SELECT text, extra FROM items WHERE id = 't1_kc2'")[0]
        assert survivor["text"] and json.loads(survivor["extra"]) == {
            "kind": "comment", "parent": "t3_1qz9a01", "subreddit": "Parenting"}


def test_comments_are_off_by_default(reddit_api, make_config):
    now, posts = our_reddit_posts()
    for post in posts:
        reddit_api.add_post(post)
    reddit_api.add_comment("t3_1qz9a01", {"id": "kc1", "author": "x_ours", "score": 1, "body": "Hi.",
                                          "created_utc": now.timestamp(), "permalink": "/x/kc1/"})
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]))
    with open_monitor(config, clock=lambda: now, tag=keyword_tagger("snapchat")) as monitor:
        assert monitor.collect().notes == []
    assert reddit_api.api_calls("/comments/1qz9a01") == []

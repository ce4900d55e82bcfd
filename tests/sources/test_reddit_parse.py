"""The pure parts of the Reddit collector and of author pseudonyms: no network, no praw."""

from __future__ import annotations

import math
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.errors import MonitorError
from monitor.privacy import HASH_KEY_NAME, key_file, load_hash_key
from monitor.schedule import retry_after_seconds
from monitor.sources.normalise import author_hash
from monitor.sources.reddit import (
    Cursor,
    PostOptions,
    gone_reason,
    newest,
    parse_posts,
    post_to_item,
)
from monitor.types import Source
from tests.helpers import our_reddit_posts

SOURCE = Source(id="reddit_subreddit:parenting", kind="reddit_subreddit", name="r/Parenting",
                options={"subreddit": "Parenting"})
KEY = b"0123456789abcdef-test-key"
OPTIONS = PostOptions(reddit_url="https://www.reddit.com", hash_key=KEY)


def our_post(post_id: str) -> dict:
    _now, posts = our_reddit_posts()
    return next(dict(p) for p in posts if p["id"] == post_id)


# --- author pseudonyms ----------------------------------------------------------------------


def test_author_hash_is_stable_case_insensitive_keyed_and_never_the_name():
    one = author_hash("Worried_Parent_Ours", KEY)
    assert one == author_hash("worried_parent_ours", KEY) == author_hash(" worried_parent_ours ", KEY)
    assert len(one) == 16 and all(c in "0123456789abcdef" for c in one)
    assert one != author_hash("worried_parent_ours", b"another key, another hash")
    assert one != author_hash("worried_parent_our", KEY)
    for gone in (None, "", "  ", "[deleted]", "[removed]"):
        assert author_hash(gone, KEY) is None
    with pytest.raises(ValueError):
        author_hash("someone", b"")


@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and s.strip() not in ("[deleted]", "[removed]")))
def test_author_hash_never_contains_the_name(name):
    hashed = author_hash(name, KEY)
    assert hashed is not None and len(hashed) == 16
    assert name.strip().casefold() not in hashed or len(name.strip()) <= 2


def test_hash_key_comes_from_the_secret_else_a_private_file_made_once(tmp_path):
    db = tmp_path / "db" / "monitor.db"
    assert load_hash_key(db, secret=lambda name: "k" * 32 if name == HASH_KEY_NAME else None) == b"k" * 32
    assert not key_file(db).exists()

    first = load_hash_key(db, secret=lambda name: None)
    path = key_file(db)
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first) == 64 and load_hash_key(db, secret=lambda name: None) == first

    with pytest.raises(MonitorError, match="MONITOR_HASH_KEY is too short"):
        load_hash_key(db, secret=lambda name: "short")
    path.write_text("x\n")
    with pytest.raises(MonitorError, match="is damaged"):
        load_hash_key(db, secret=lambda name: None)


# --- cursors ----------------------------------------------------------------------------------


def test_cursor_round_trips_and_rejects_anything_else():
    cursor = Cursor("t3_kzj68i", datetime(2021, 1, 18, 0, 44, 29, tzinfo=timezone.utc).timestamp())
    assert cursor.encode() == "t3_kzj68i 2021-01-18T00:44:29Z"
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode("t3_kzj68i") == Cursor("t3_kzj68i", None)
    for bad in (None, "", "   ", "t1_abc", "t3_ 2021", "t3_abc not-a-time", "DROP TABLE"):
        decoded = Cursor.decode(bad)
        assert decoded is None or decoded == Cursor("t3_abc", None)


@given(st.integers(min_value=1, max_value=36 ** 9), st.integers(min_value=1_100_000_000, max_value=4_000_000_000))
def test_cursor_round_trips_for_any_post(number, created):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    base36 = ""
    while number:
        number, rest = divmod(number, 36)
        base36 = digits[rest] + base36
    cursor = Cursor(f"t3_{base36}", float(created))
    assert Cursor.decode(cursor.encode()) == cursor


def test_newest_prefers_the_later_time_then_the_higher_id():
    posts = [{"name": "t3_kzj68k", "created_utc": 1610930670.0}, {"name": "t3_kzj68x", "created_utc": 1610930670.0},
             {"name": "t3_zzzzzz", "created_utc": 1610930600.0}, {"name": "bad", "created_utc": 1e12},
             {"name": "t3_abc", "created_utc": math.nan}]
    assert newest(posts) == Cursor("t3_kzj68x", 1610930670.0)
    assert newest([], Cursor("t3_a", 1.0)) == Cursor("t3_a", 1.0)
    assert newest(posts[:1], Cursor("t3_zzzzzzz", 1610930671.0)).fullname == "t3_zzzzzzz"


# --- posts -> items -----------------------------------------------------------------------------


def test_gone_reason_recognises_reddits_deleted_and_removed_shapes():
    live = our_post("1qz9a01")
    assert gone_reason(live) is None
    assert gone_reason(dict(live, removed_by_category="moderator")) == "moderator"
    assert gone_reason(dict(live, author="[deleted]", selftext="[deleted]")) == "deleted"
    assert gone_reason(dict(live, selftext="[removed]")) == "removed"
    assert gone_reason(dict(live, title="[deleted by user]")) == "deleted"
    assert gone_reason(dict(live, author="[deleted]")) is None  # account gone, post still up


def test_a_crosspost_links_to_the_original_on_reddit_and_a_self_post_links_nowhere():
    crosspost = dict(our_post("1qz9a02"), url="/r/teenagers/comments/1qz9a07/someone_im_gaming_with/",
                     url_overridden_by_dest=None, crosspost_parent="t3_1qz9a07")
    item = post_to_item(crosspost, SOURCE, OPTIONS)
    assert item.extra["link"] == "https://www.reddit.com/r/teenagers/comments/1qz9a07/someone_im_gaming_with/"
    assert item.extra["crosspost_parent"] == "t3_1qz9a07"
    self_post = dict(our_post("1qz9a01"), is_self=False)  # its url is its own permalink
    assert "link" not in post_to_item(self_post, SOURCE, OPTIONS).extra


def test_odd_values_do_not_break_an_item():
    post = dict(our_post("1qz9a01"), created_utc="yesterday", score=math.inf, num_comments=None,
                link_flair_text=["not", "text"], title="Title\r\nwith\x00 control\x07 chars", selftext=None)
    item = post_to_item(post, SOURCE, OPTIONS)
    assert item.published_at is None  # stored with the collection time instead
    assert (item.popularity, item.comments) == (None, None)
    assert item.title == "Title with control chars" and item.text == ""
    assert "flair" not in item.extra


def test_names_are_stored_only_when_hashing_is_off():
    post = our_post("1qz9a01")
    assert post_to_item(post, SOURCE, OPTIONS).author == author_hash("worried_parent_ours", KEY)
    plain = PostOptions(hash_authors=False)
    assert post_to_item(post, SOURCE, plain).author == "worried_parent_ours"
    assert post_to_item(dict(post, author="[deleted]"), SOURCE, plain).author is None


def test_parse_skips_nsfw_keeps_gone_posts_for_purging_and_warns_about_broken_ones():
    _now, posts = our_reddit_posts()
    parenting = [p for p in posts if p["subreddit"] == "Parenting"]
    broken = [{"title": "no id"}, "not even a dict", dict(parenting[0], name="t3_NOT-VALID")]
    parsed = parse_posts(parenting + parenting[:1] + broken, SOURCE, OPTIONS)
    assert [i.id for i in parsed.items] == ["t3_1qz9a01", "t3_1qz9a02", "t3_1qz9a05", "t3_1qz9a06"]
    assert parsed.deleted == ["t3_1qz9a04"]
    assert len(parsed.warnings) == 3 and all(w.startswith("skipped a post without a valid id") for w in parsed.warnings)
    with_nsfw = parse_posts(parenting, SOURCE, PostOptions(include_nsfw=True, hash_key=KEY))
    nsfw = [i for i in with_nsfw.items if i.extra["nsfw"]]
    assert [i.id for i in nsfw] == ["t3_1qz9a03"]


def test_retry_after_is_read_as_seconds_or_an_http_date():
    assert retry_after_seconds("4") == 4.0
    assert retry_after_seconds(" 120 ") == 120.0
    moment = datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc)
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=moment - timedelta(seconds=60)) == 60.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=moment + timedelta(seconds=60)) == 0.0
    for junk in (None, "", "soon", "nan", "inf"):
        assert retry_after_seconds(junk) is None

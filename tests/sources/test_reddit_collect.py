"""Collecting Reddit end to end: the real praw -> a fake Reddit API on 127.0.0.1 -> SQLite.

The fake API (monitor.demo.reddit_api) replays responses recorded from the real Reddit
API in ../shared/fixtures/reddit (tests marked ``shared``, skipped when that folder is
absent) and serves our own invented posts from tests/data/reddit, so every behaviour
is covered without ../shared too.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

from monitor.app import open_monitor
from monitor.privacy import load_hash_key
from monitor.sources.normalise import author_hash
from tests.conftest import DATA, shared_path
from tests.helpers import our_reddit_posts, reddit_section, rows, serve_files

RECORDED_NOW = datetime(2021, 1, 18, 1, 0, tzinfo=timezone.utc)


def params(request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(request.query).items()}


def replay_new_listings(api) -> None:
    """The r/all/new poll recorded by asyncpraw: 100 posts, then before=t3_kzj68i -> 7."""
    api.load_cassette(shared_path("fixtures", "reddit", "cassettes",
                                  "asyncpraw__TestSubredditStreams.test_submissions.json"))


def key_for(config) -> bytes:
    return load_hash_key(config.storage.path)


# --- recorded responses (../shared) ---------------------------------------------------------


@pytest.mark.shared
def test_recorded_100_post_listing_lands_as_100_items_with_the_right_fields(reddit_api, make_config):
    replay_new_listings(reddit_api)
    config = make_config(reddit=reddit_section(reddit_api, include_nsfw=True, subreddits=[{"name": "all"}]))
    with open_monitor(config, clock=lambda: RECORDED_NOW) as monitor:
        report = monitor.collect()
        (result,) = report.results
        assert (result.status, result.new) == ("ok", 100), result.error
        items = {r["id"]: r for r in rows(monitor, "SELECT * FROM items")}
        assert len(items) == 100 and all(r["media"] == "reddit" for r in items.values())

        post = items["t3_kzj68i"]
        assert post["title"] == "[Help] 3080 gpu"
        assert post["text"].startswith("Hey guys so I'm going to buy a 3080") and "\n\n" in post["text"]
        assert post["summary_html"].startswith("<p>Hey guys")
        assert post["url"] == f"{reddit_api.base_url}/r/Amd/comments/kzj68i/help_3080_gpu/"
        assert post["published_at"] == "2021-01-18T00:44:29Z"  # created_utc, not the skewed `created`
        assert (post["popularity"], post["comments"]) == (1, 0)
        assert post["author"] == author_hash("CryptoGhost19", key_for(config)) and len(post["author"]) == 16
        view = rows(monitor, "SELECT subreddit, nsfw, link, flair FROM reddit_posts WHERE id = 't3_kzj68i'")[0]
        assert view == {"subreddit": "Amd", "nsfw": 0, "link": None, "flair": "Discussion"}

        listing = json.loads(shared_path("fixtures", "reddit", "listings",
                                         "r_all_new_limit100_2021-01-18.json").read_text(encoding="utf-8"))
        link_posts = [c["data"] for c in listing["data"]["children"] if not c["data"]["is_self"]]
        assert len(link_posts) == 65
        sample = link_posts[0]
        stored = json.loads(items[sample["name"]]["extra"])
        assert stored["link"] and stored["domain"] == sample["domain"]
        assert sum(json.loads(r["extra"])["nsfw"] for r in items.values()) == 26
        assert monitor.store.state("reddit_subreddit:all").cursor == "t3_kzj68i 2021-01-18T00:44:29Z"

    (call,) = reddit_api.api_calls("/r/all/new")
    assert params(call) == {"limit": "100", "raw_json": "1"}
    (token,) = reddit_api.api_calls and [r for r in reddit_api.requests if r.path == "/api/v1/access_token"]
    assert token.body == b"grant_type=client_credentials"  # read-only app authentication
    assert call.headers["user-agent"].startswith("python:org.example.monitor-tests:0.1 (by /u/monitor_tests)")


@pytest.mark.shared
def test_recorded_before_poll_adds_exactly_the_7_newer_posts(reddit_api, make_config):
    replay_new_listings(reddit_api)
    config = make_config(reddit=reddit_section(reddit_api, include_nsfw=True, subreddits=[{"name": "all"}]))
    with open_monitor(config, clock=lambda: RECORDED_NOW) as monitor:
        assert monitor.collect().results[0].new == 100
        second = monitor.collect(force=True).results[0]
        assert (second.status, second.new, second.seen) == ("ok", 7, 0)
        assert monitor.store.count_items() == 107
        assert monitor.store.state("reddit_subreddit:all").cursor.startswith("t3_kzj68x ")
    polls = reddit_api.api_calls("/r/all/new")
    assert [params(p).get("before") for p in polls] == [None, "t3_kzj68i"]


@pytest.mark.shared
def test_recorded_listings_skip_nsfw_posts_by_default(reddit_api, make_config):
    replay_new_listings(reddit_api)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "all"}]))
    with open_monitor(config, clock=lambda: RECORDED_NOW) as monitor:
        assert monitor.collect().results[0].new == 74  # 26 of 100 are over_18
        assert monitor.collect(force=True).results[0].new == 2  # 5 of the 7 newer ones are
        assert not rows(monitor, "SELECT id FROM reddit_posts WHERE nsfw")


@pytest.mark.shared
def test_recorded_search_listing_lands(reddit_api, make_config):
    reddit_api.load_cassette(shared_path("fixtures", "reddit", "cassettes", "asyncpraw__TestSubreddit.test_search.json"))
    config = make_config(reddit=reddit_section(reddit_api, searches=[{"query": "praw oauth search"}]))
    with open_monitor(config, clock=lambda: RECORDED_NOW) as monitor:
        (result,) = monitor.collect().results
        assert result.source.id == "reddit_search:praw-oauth-search-all"
        assert (result.status, result.new) == ("ok", 31), result.error
        first = rows(monitor, "SELECT * FROM reddit_posts WHERE id = 't3_6ganxe'")[0]
        assert first["title"] == "How to check if a username is available on Reddit?"
        assert first["subreddit"] == "learnpython" and first["num_comments"] == 24
        assert first["author_hash"] == author_hash("cheesycow5", key_for(config))
        # The newest post becomes the cursor (results came in relevance order).
        assert monitor.store.state(result.source.id).cursor.startswith("t3_")
    (call,) = reddit_api.api_calls("/r/all/search")
    sent = params(call)
    assert sent["q"] == "praw oauth search" and sent["sort"] == "new" and sent["restrict_sr"] in ("False", "false")


@pytest.mark.shared
def test_recorded_429_and_503_fail_their_sources_with_backoff_while_news_succeeds(
        reddit_api, make_config, server, caplog):
    cassettes = shared_path("fixtures", "reddit", "cassettes")
    unavailable = reddit_api.load_cassette(cassettes / "prawcore__TestSession.test_request__service_unavailable.json")
    limited = reddit_api.load_cassette(
        cassettes / "prawcore__TestSession.test_request__too__many_requests__with_retry_headers.json")
    # Serve the recorded error responses for our listing requests.
    for exchange in unavailable[1:]:
        reddit_api.reply("GET", "/r/teenagers/new", exchange.response)
    reddit_api.reply("GET", "/r/Parenting/new", limited[1].response)
    assert limited[1].response.status == 429 and ("retry-after", "4") in limited[1].response.headers
    _assert_errors_fail_sources_and_news_goes_on(reddit_api, make_config, server, caplog, retry_after=4)


def test_our_429_and_503_fail_their_sources_with_backoff_while_news_succeeds(
        reddit_api, make_config, server, caplog):
    reddit_api.load_cassette(DATA / "reddit" / "ours_errors_cassette.json")
    _assert_errors_fail_sources_and_news_goes_on(reddit_api, make_config, server, caplog, retry_after=120)


def _assert_errors_fail_sources_and_news_goes_on(api, make_config, server, caplog, *, retry_after):
    feeds = serve_files(server, {"Gazette": DATA / "feeds" / "ours_rss20.xml"})
    now = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
    config = make_config(feeds=feeds, schedule={"interval_minutes": 30},
                         reddit=reddit_section(api, subreddits=[{"name": "teenagers"}, {"name": "Parenting"},
                                                                {"name": "legaladvice"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        report = monitor.collect()
        by_id = {r.source.id: r for r in report.results}
        assert by_id["feed:gazette"].status == "ok" and by_id["feed:gazette"].new == 4
        teen, parenting, legal = (by_id[f"reddit_subreddit:{n}"] for n in ("teenagers", "parenting", "legaladvice"))
        assert teen.status == "failed" and "Reddit server error (HTTP 503)" in teen.error
        assert parenting.status == "failed" and parenting.error == f"Reddit rate limit (HTTP 429); Retry-After {retry_after} s"
        # After a 429 the rest of the cycle's Reddit sources do not call the API at all.
        assert legal.status == "failed" and legal.error.startswith("not tried: Reddit rate limit (HTTP 429)")
        assert not api.api_calls("/r/legaladvice/new")
        assert len(api.api_calls("/r/teenagers/new")) == 3  # prawcore's two retries, then give up

        states = monitor.store.states()
        for source_id in ("reddit_subreddit:teenagers", "reddit_subreddit:parenting"):
            state = states[source_id]
            assert state.failures == 1 and state.next_due_at >= now + timedelta(minutes=30)
        assert states["reddit_subreddit:parenting"].last_status == 429
        assert states["reddit_subreddit:parenting"].next_due_at >= now + timedelta(seconds=retry_after)
        assert rows(monitor, "SELECT status, http_status FROM runs WHERE source_id = 'reddit_subreddit:parenting'") == [
            {"status": "failed", "http_status": 429}]
        assert monitor.store.count_items() == 4
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 3 and all("r/" in r.getMessage() for r in errors)

    # A restart (a new process, same database) leaves the backing-off sources alone.
    calls = len(api.api_calls())
    with open_monitor(config, clock=lambda: now + timedelta(minutes=5)) as monitor:
        report = monitor.collect()
        reddit = [r for r in report.results if r.source.kind == "reddit_subreddit"]
        assert {r.status for r in reddit} == {"skipped"}
        assert all("backing off" in r.error for r in reddit)
    assert len(api.api_calls()) == calls


# --- our own invented posts ------------------------------------------------------------------


def add_our_posts(api) -> datetime:
    now, posts = our_reddit_posts()
    for post in posts:
        api.add_post(post, search_terms=["secret chats"] if post["id"] in ("1qz9a01", "1qz9a07") else [])
    return now


def test_our_posts_map_to_items_and_a_post_found_twice_is_one_item_with_both_sources(reddit_api, make_config):
    now = add_our_posts(reddit_api)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}],
                                               searches=[{"query": "secret chats"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        report = monitor.collect()
        by_id = {r.source.id: r for r in report.results}
        subreddit, search = by_id["reddit_subreddit:parenting"], by_id["reddit_search:secret-chats-all"]
        # Parenting lists 6 posts: the NSFW one is skipped, the removed one never stored.
        assert (subreddit.status, subreddit.new) == ("ok", 4)
        assert search.status == "ok" and search.new + search.seen == 2 and search.new + subreddit.new == 5
        items = {r["id"]: r for r in rows(monitor, "SELECT * FROM items")}
        assert set(items) == {"t3_1qz9a01", "t3_1qz9a02", "t3_1qz9a05", "t3_1qz9a06", "t3_1qz9a07"}
        both = rows(monitor, "SELECT source_id FROM item_sources WHERE item_id = 't3_1qz9a01' ORDER BY source_id")
        assert [r["source_id"] for r in both] == ["reddit_search:secret-chats-all", "reddit_subreddit:parenting"]

        self_post = items["t3_1qz9a01"]
        assert self_post["title"] == "Someone on Snapchat told my 12yo to keep their chats secret"
        assert self_post["text"] == ("He said he was 14 and asked her to move to a private app.\n\n"
                                     "We reported it. What else should we do?")
        assert self_post["published_at"] == "2026-03-02T11:55:00Z"
        assert (self_post["popularity"], self_post["comments"]) == (214, 57)
        assert self_post["url"] == (f"{reddit_api.base_url}/r/Parenting/comments/1qz9a01/"
                                    "someone_on_snapchat_told_my_12yo/")
        link_post = json.loads(items["t3_1qz9a02"]["extra"])
        assert link_post["link"] == "https://example.org/news/grooming-signs-leaflet"  # tracking removed
        assert link_post["domain"] == "example.org" and link_post["subreddit"] == "Parenting"
        assert items["t3_1qz9a02"]["url"].startswith(reddit_api.base_url + "/r/Parenting/comments/1qz9a02/")
        assert items["t3_1qz9a05"]["author"] is None  # "[deleted]" author: no hash

        markup = items["t3_1qz9a06"]
        assert "<script" not in markup["summary_html"] and "<img" not in markup["summary_html"]
        assert "javascript:" not in markup["summary_html"] and 'href="https://example.org/help"' in markup["summary_html"]
        assert markup["text"] == "Hi & welcome\n\nlinetwo"  # markdown kept as written, control characters gone


def test_usernames_never_reach_the_database_file(reddit_api, make_config, tmp_path):
    now = add_our_posts(reddit_api)
    config = make_config(reddit=reddit_section(reddit_api, include_nsfw=True,
                                               subreddits=[{"name": "Parenting"}, {"name": "teenagers"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        assert sum(r.new for r in monitor.collect().results) == 6
        key = key_for(config)
        hashes = {r["author"] for r in rows(monitor, "SELECT author FROM items WHERE author IS NOT NULL")}
        assert hashes == {author_hash(name, key) for name in (
            "worried_parent_ours", "school_governor_ours", "nsfw_account_ours", "markup_tester_ours",
            "anxious_gamer_ours")}
        monitor.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("monitor.db*") if not p.name.endswith("hash-key"))
    assert b"Snapchat told my 12yo" in raw  # the content is there ...
    for name in ("worried_parent_ours", "school_governor_ours", "anxious_gamer_ours", "markup_tester_ours"):
        assert name.encode() not in raw  # ... the names are not


def test_hash_authors_off_stores_names(reddit_api, make_config):
    now = add_our_posts(reddit_api)
    config = make_config(reddit=reddit_section(reddit_api, hash_authors=False, subreddits=[{"name": "teenagers"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        assert rows(monitor, "SELECT author FROM items") == [{"author": "anxious_gamer_ours"}]


def make_posts(api, subreddit: str, count: int, start: datetime, *, first: int = 0) -> list[str]:
    """``count`` invented posts, one a minute from ``start``; returns their fullnames."""
    names = []
    for n in range(first, first + count):
        pid = f"2ab{n:04d}"
        created = (start + timedelta(minutes=n)).timestamp()
        api.add_post({"id": pid, "name": f"t3_{pid}", "title": f"Invented post number {n}", "selftext": f"Body {n}.",
                      "author": f"invented_user_{n % 7}", "subreddit": subreddit, "created_utc": created,
                      "permalink": f"/r/{subreddit}/comments/{pid}/invented_post_number_{n}/", "url": "",
                      "is_self": True, "score": n, "num_comments": 0, "over_18": False})
        names.append(f"t3_{pid}")
    return names


def test_subreddit_polls_are_incremental_with_before_and_catch_up_a_backlog(reddit_api, make_config):
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    make_posts(reddit_api, "privacy", 130, start)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}]))
    with open_monitor(config, clock=lambda: start + timedelta(days=1)) as monitor:
        assert monitor.collect().results[0].new == 100  # the newest page only, the first time
        state = monitor.store.state("reddit_subreddit:privacy")
        assert state.cursor == f"t3_2ab0129 {(start + timedelta(minutes=129)).strftime('%Y-%m-%dT%H:%M:%SZ')}"

        make_posts(reddit_api, "privacy", 3, start, first=130)
        result = monitor.collect(force=True).results[0]
        assert (result.new, result.seen) == (3, 0)
        assert params(reddit_api.api_calls("/r/privacy/new")[-1])["before"] == "t3_2ab0129"

        make_posts(reddit_api, "privacy", 250, start, first=133)  # a backlog: three before= pages
        calls = len(reddit_api.api_calls("/r/privacy/new"))
        result = monitor.collect(force=True).results[0]
        assert (result.new, result.seen) == (250, 0)
        assert len(reddit_api.api_calls("/r/privacy/new")) - calls == 3
        assert monitor.store.count_items() == 353

        calls = len(reddit_api.api_calls("/r/privacy/new"))
        quiet = monitor.collect(force=True).results[0]
        assert (quiet.status, quiet.new, quiet.seen) == ("ok", 0, 0)
        # Nothing newer: one before= request, and one short listing to check the cursor still exists.
        assert [params(c).get("before") for c in reddit_api.api_calls("/r/privacy/new")[calls:]] == ["t3_2ab0382", None]


def test_a_deleted_cursor_post_does_not_stall_the_subreddit(reddit_api, make_config):
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    names = make_posts(reddit_api, "privacy", 5, start)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}]))
    with open_monitor(config, clock=lambda: start + timedelta(days=1)) as monitor:
        assert monitor.collect().results[0].new == 5
        reddit_api.delete(names[-1])  # the cursor post: Reddit now answers before=<it> with nothing
        make_posts(reddit_api, "privacy", 2, start, first=5)
        result = monitor.collect(force=True).results[0]
        assert (result.status, result.new) == ("ok", 2)
        assert monitor.store.state("reddit_subreddit:privacy").cursor.startswith("t3_2ab0006 ")


def test_a_removed_cursor_post_then_60_new_posts_reads_all_of_them(reddit_api, make_config):
    """before=<a removed post> answers nothing; the 25-post check page is all newer than
    the cursor, so /new is paged on with after= down to the cursor's time."""
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    names = make_posts(reddit_api, "privacy", 5, start)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}]))
    with open_monitor(config, clock=lambda: start + timedelta(days=1)) as monitor:
        assert monitor.collect().results[0].new == 5
        reddit_api.delete(names[-1], how="moderator")  # moderators remove the newest post: the cursor
        make_posts(reddit_api, "privacy", 60, start, first=5)
        calls = len(reddit_api.api_calls("/r/privacy/new"))
        result = monitor.collect(force=True).results[0]
        assert (result.status, result.new, result.warnings) == ("ok", 60, [])
        pages = [params(c) for c in reddit_api.api_calls("/r/privacy/new")[calls:]]
        assert [(p.get("before"), p.get("after")) for p in pages] == [("t3_2ab0004", None), (None, None),
                                                                      (None, "t3_2ab0040")]
        assert monitor.store.count_items() == 65
        assert monitor.store.state("reddit_subreddit:privacy").cursor.startswith("t3_2ab0064 ")
        assert monitor.collect(force=True).results[0].new == 0


def test_a_removed_cursor_post_under_more_posts_than_reddit_lists_moves_on_with_one_warning(
        reddit_api, make_config, monkeypatch, caplog):
    from monitor.sources import reddit

    monkeypatch.setattr(reddit, "MAX_PAGES", 3)  # 25 + 100 + 100 posts, instead of Reddit's ~1000
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    names = make_posts(reddit_api, "privacy", 5, start)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}]))
    with open_monitor(config, clock=lambda: start + timedelta(days=1)) as monitor:
        monitor.collect()
        reddit_api.delete(names[-1])
        make_posts(reddit_api, "privacy", 300, start, first=5)
        result = monitor.collect(force=True).results[0]
        assert (result.status, result.new) == ("ok", 225)  # the newest 225, all stored
        assert len(result.warnings) == 1 and "read the newest 225, back to 2026-03-01T01:20:00Z" in \
            result.warnings[0] and "t3_2ab0004" in result.warnings[0]
        assert sum("read the newest 225" in r.getMessage() for r in caplog.records) == 1
        # Reddit lists no further back: the cursor moves on instead of re-reading the same pages for ever.
        assert monitor.store.state("reddit_subreddit:privacy").cursor.startswith("t3_2ab0304 ")
        make_posts(reddit_api, "privacy", 2, start, first=305)
        assert monitor.collect(force=True).results[0].new == 2


def test_a_failure_while_reading_down_to_a_removed_cursor_keeps_the_cursor(reddit_api, make_config):
    from monitor.demo.reddit_api import Recorded

    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    names = make_posts(reddit_api, "privacy", 5, start)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}]))
    now = start + timedelta(days=1)
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        cursor = monitor.store.state("reddit_subreddit:privacy").cursor
        reddit_api.delete(names[-1], how="moderator")
        make_posts(reddit_api, "privacy", 60, start, first=5)
        reddit_api.reply("GET", "/r/privacy/new", Recorded(429, [("retry-after", "60")], b"slow down"),
                         params={"after": "t3_2ab0040"})
        result = monitor.collect(force=True).results[0]
        assert (result.status, result.new) == ("failed", 25)  # the check page is kept ...
        assert monitor.store.state("reddit_subreddit:privacy").cursor == cursor  # ... but not joined to the cursor
        monitor.clock = lambda: now + timedelta(hours=1)
        again = monitor.collect().results[0]
        assert (again.status, again.new, again.seen) == ("ok", 35, 25)
        assert monitor.store.count_items() == 65


def test_a_post_time_out_of_range_is_stored_without_it_and_never_becomes_the_cursor(reddit_api, make_config):
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    make_posts(reddit_api, "privacy", 3, start)
    reddit_api.add_post(dict(reddit_api.posts["t3_2ab0000"], id="2ab9999", name="t3_2ab9999", created_utc=1e20,
                             title="Invented post from the far future",
                             permalink="/r/privacy/comments/2ab9999/invented_post_from_the_far_future/"))
    now = start + timedelta(days=1)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        result = monitor.collect().results[0]
        assert (result.status, result.new) == ("ok", 4), result.error
        assert rows(monitor, "SELECT published_at FROM items WHERE id = 't3_2ab9999'") == [
            {"published_at": "2026-03-02T00:00:00Z"}]  # no time of its own: when it was collected
        assert monitor.store.state(result.source.id).cursor.startswith("t3_2ab0002 ")


def test_search_polls_stop_paging_at_the_cursor(reddit_api, make_config):
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    make_posts(reddit_api, "legaladvice", 140, start)
    config = make_config(reddit=reddit_section(reddit_api, searches=[{"query": "invented post",
                                                                      "subreddit": "legaladvice"}]))
    with open_monitor(config, clock=lambda: start + timedelta(days=1)) as monitor:
        assert monitor.collect().results[0].new == 100
        make_posts(reddit_api, "legaladvice", 120, start, first=140)
        calls = len(reddit_api.api_calls("/r/legaladvice/search"))
        result = monitor.collect(force=True).results[0]
        assert (result.new, result.seen) == (120, 0)
        pages = reddit_api.api_calls("/r/legaladvice/search")[calls:]
        assert len(pages) == 2 and params(pages[0])["restrict_sr"] in ("True", "true", "1")
        assert monitor.store.state(result.source.id).cursor.startswith("t3_2ab0259 ")


def test_a_rate_limit_part_way_through_paging_keeps_what_was_fetched(reddit_api, make_config):
    from monitor.demo.reddit_api import Recorded

    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    make_posts(reddit_api, "legaladvice", 10, start)
    config = make_config(reddit=reddit_section(reddit_api, searches=[{"query": "invented post",
                                                                      "subreddit": "legaladvice"}]))
    now = start + timedelta(days=1)
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        cursor = monitor.store.state("reddit_search:invented-post-legaladvice").cursor
        make_posts(reddit_api, "legaladvice", 150, start, first=10)
        # The second page of the next poll is rate limited.
        page_two = {"q": "invented post", "after": "t3_2ab0060"}
        reddit_api.reply("GET", "/r/legaladvice/search", Recorded(429, [("retry-after", "600")], b"slow down"),
                         params=page_two)
        result = monitor.collect(force=True).results[0]
        assert result.status == "failed" and result.new == 100
        assert "Retry-After 600 s" in result.error and "kept 100 new" in result.error
        state = monitor.store.state(result.source.id)
        assert state.failures == 1 and state.next_due_at >= now + timedelta(seconds=600)
        assert state.cursor == cursor  # older unread posts are fetched next time, not skipped
        assert monitor.store.count_items() == 110

        later = now + timedelta(hours=2)
        monitor.clock = lambda: later
        result = monitor.collect().results[0]
        assert (result.status, result.new, result.seen) == ("ok", 50, 100)
        assert monitor.store.count_items() == 160


def test_posts_deleted_upstream_are_not_stored_and_are_purged_when_seen_deleted(reddit_api, make_config):
    from monitor.demo.reddit_api import listing

    now = add_our_posts(reddit_api)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        assert rows(monitor, "SELECT id FROM items WHERE id = 't3_1qz9a04'") == []  # removed before we saw it
        # A later listing shows a stored post as removed by the moderators.
        removed = dict(reddit_api.posts["t3_1qz9a01"], selftext="[removed]", removed_by_category="moderator")
        reddit_api.replay_listing("/r/Parenting/new", json.dumps(listing([removed])).encode(),
                                  params={"before": "t3_1qz9a01"})
        monitor.collect(force=True)
        row = rows(monitor, "SELECT title, text, url, author, deleted_at FROM items WHERE id = 't3_1qz9a01'")[0]
        assert row == {"title": "", "text": "", "url": None, "author": None, "deleted_at": "2026-03-02T12:00:00Z"}


def test_missing_credentials_skip_reddit_with_one_warning_and_news_goes_on(
        reddit_api, make_config, server, monkeypatch, caplog):
    monkeypatch.delenv("REDDIT_CLIENT_SECRET")
    feeds = serve_files(server, {"Gazette": DATA / "feeds" / "ours_rss20.xml"})
    config = make_config(feeds=feeds, reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"},
                                                                                     {"name": "teenagers"}]))
    with open_monitor(config) as monitor:
        report = monitor.collect()
    by_id = {r.source.id: r for r in report.results}
    assert by_id["feed:gazette"].status == "ok" and by_id["feed:gazette"].new == 4
    for source_id in ("reddit_subreddit:parenting", "reddit_subreddit:teenagers"):
        assert by_id[source_id].status == "skipped"
        assert "REDDIT_CLIENT_SECRET is not set" in by_id[source_id].error
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "REDDIT_CLIENT_SECRET" in warnings[0] and "2 Reddit source(s)" in warnings[0]
    assert reddit_api.requests == []


def test_systemd_credentials_are_read_before_the_environment(reddit_api, make_config, monkeypatch, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "REDDIT_CLIENT_ID").write_text(reddit_api.client_id + "\n")
    (credentials / "REDDIT_CLIENT_SECRET").write_text(reddit_api.client_secret + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    monkeypatch.setenv("REDDIT_CLIENT_ID", "wrong-id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "wrong-secret")
    now = add_our_posts(reddit_api)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "teenagers"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        assert monitor.collect().results[0].new == 1


def test_refused_credentials_fail_every_reddit_source_with_one_request(reddit_api, make_config, monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "not-the-secret")
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}, {"name": "teenagers"}]))
    with open_monitor(config) as monitor:
        results = monitor.collect().results
    assert [r.status for r in results] == ["failed", "failed"]
    assert "Reddit refused the credentials" in results[0].error and "REDDIT_CLIENT_SECRET" in results[0].error
    assert results[1].error.startswith("not tried: Reddit refused the credentials")
    assert len(reddit_api.requests) == 1 and reddit_api.requests[0].path == "/api/v1/access_token"


def test_a_praw_ini_in_the_working_directory_is_never_used(reddit_api, make_config, monkeypatch, tmp_path):
    import praw.config
    import praw.reddit

    # praw's update check asks PyPI: it must stay off even when a praw.ini asks for it.
    # (PyPI cannot be reached from the tests: the check itself is replaced by a recorder.)
    update_checks: list[dict] = []
    monkeypatch.setattr(praw.reddit, "UPDATE_CHECKER_MISSING", False)
    monkeypatch.setattr(praw.reddit, "update_check", lambda **kwargs: update_checks.append(kwargs))
    monkeypatch.setattr(praw.reddit.Reddit, "update_checked", False)

    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "praw.ini").write_text(
        "[DEFAULT]\nusername = someone\npassword = hunter2\nrefresh_token = stolen\n"
        "oauth_url = http://127.0.0.1:9\nreddit_url = http://127.0.0.1:9\ncheck_for_updates = true\n",
        encoding="utf-8")
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(praw.config.Config, "CONFIG", None)  # make praw read praw.ini files again
    monkeypatch.setenv("praw_username", "someone-else")
    monkeypatch.setenv("praw_password", "hunter3")
    now = add_our_posts(reddit_api)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "teenagers"}]))
    with pytest.warns(UserWarning, match="overrides the oauth_url"), open_monitor(config, clock=lambda: now) as monitor:
        assert monitor.collect().results[0].new == 1
    tokens = [r for r in reddit_api.requests if r.path == "/api/v1/access_token"]
    assert [t.body for t in tokens] == [b"grant_type=client_credentials"]  # never a password grant
    assert update_checks == []  # praw never asked PyPI for a newer version


def test_prawcore_debug_logging_stays_off_and_secrets_stay_out_of_logs(reddit_api, tmp_path):
    import os
    import subprocess
    import sys


    now, posts = our_reddit_posts()
    for post in posts:
        reddit_api.add_post(dict(post, created_utc=datetime.now(timezone.utc).timestamp() - 60))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "{tmp_path / "m.db"}"\n\n[reddit]\nuser_agent = "python:org.example.t:0.1 (by /u/tester)"\n'
        f'oauth_url = "{reddit_api.base_url}"\nreddit_url = "{reddit_api.base_url}"\n\n'
        '[[reddit.subreddits]]\nname = "Parenting"\n', encoding="utf-8")
    env = {**os.environ, "REDDIT_CLIENT_ID": reddit_api.client_id, "REDDIT_CLIENT_SECRET": reddit_api.client_secret}
    env.pop("MONITOR_CONFIG", None)
    result = subprocess.run([sys.executable, "-m", "monitor", "-vv", "--config", str(config), "collect"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "r/Parenting" in result.stdout and "DEBUG monitor" in result.stderr  # -vv does log our debug lines
    assert " prawcore:" not in result.stderr  # no prawcore log line at all, and so none of its
    assert "Fetching:" not in result.stderr and "Params:" not in result.stderr  # request dumps
    for secret in (reddit_api.client_secret, reddit_api.token):
        assert secret not in result.stderr and secret not in result.stdout


@pytest.mark.parametrize("body, content_type, expected", [
    (b"<html>maintenance</html>", "text/html", "Reddit answered for r/Parenting with something that is not JSON"),
    (b'{"kind": "t2", "data": {"name": "someone"}}', "application/json",
     "Reddit answered /r/Parenting/new with something that is not a listing"),
    (b'{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"title": "no id"}}]}}',
     "application/json", None),
])
def test_answers_that_are_not_listings_fail_the_source_cleanly(reddit_api, make_config, body, content_type,
                                                               expected):
    from monitor.demo.reddit_api import Recorded

    reddit_api.reply("GET", "/r/Parenting/new", Recorded(200, [("Content-Type", content_type)], body))
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]))
    with open_monitor(config) as monitor:
        (result,) = monitor.collect().results
        if expected is None:  # a listing with a broken post: that post is skipped with a warning
            assert (result.status, result.new) == ("ok", 0)
            assert result.warnings == ["skipped a post without a valid id ('None')"]
        else:
            assert result.status == "failed" and result.error == expected
            assert monitor.store.state(result.source.id).failures == 1

"""Collecting Bluesky searches end to end: the collector -> a fake Bluesky server on
127.0.0.1 (login, token renewal, search) -> SQLite.

The fake (monitor.demo.bluesky_api) replays the search recorded from bsky.social in
../shared/fixtures/bluesky (tests marked ``shared``), and serves our own invented posts
from tests/data/bluesky, so every behaviour is covered without ../shared too.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from monitor.app import open_monitor
from monitor.demo.bluesky_api import CREATE, REFRESH, SEARCH
from monitor.demo.fake_api import json_reply
from monitor.demo.server import Reply
from monitor.privacy import load_hash_key
from monitor.sources.bluesky import facet_html, post_url, published_time, token_expiry
from monitor.sources.normalise import author_hash
from monitor.types import from_iso
from tests.conftest import shared_path
from tests.helpers import our_data, recorded, rows, serve_files

RECORDED_NOW = datetime(2025, 5, 19, 18, 0, tzinfo=timezone.utc)
RECORDED_SEARCH = ("fixtures", "bluesky", "bskyr__f_search.yml")


def no_tags(items):
    return {}


def ours():
    data = our_data("bluesky", "ours_posts.json")
    return from_iso(data["now"]), data["posts"]


def section(api, *queries: str, **overrides) -> dict:
    return {"api_url": api.base_url, "searches": [{"query": q} for q in queries], **overrides}


def key_for(config) -> bytes:
    return load_hash_key(config.storage.path)


def add_ours(api) -> list[dict]:
    _now, posts = ours()
    for post in posts:
        api.add_post(copy.deepcopy(post))
    return posts


# --- the recorded search (../shared) ---------------------------------------------------------------


@pytest.mark.shared
def test_recorded_search_lands_with_text_author_hash_time_and_link(bluesky_api, make_config, caplog):
    bluesky_api.reply(SEARCH, recorded(shared_path(*RECORDED_SEARCH), "searchPosts"))
    config = make_config(bluesky=section(bluesky_api, "redistricting"))
    with caplog.at_level(logging.INFO), open_monitor(config, clock=lambda: RECORDED_NOW, tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        # 25 posts, 4 of them by accounts that asked not to be shown to logged-out viewers.
        assert (result.status, result.new) == ("ok", 21), result.error
        posts = {p["id"]: p for p in rows(monitor, "SELECT * FROM social_posts")}
        first = posts["at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"]
        assert first["network"] == "bluesky"
        assert first["url"] == "https://bsky.app/profile/did:plc:kkergqgbhb56ptpwj2wenkje/post/3lpk2u6qo222m"
        assert first["text"].startswith("Ends Versus Means: Public Opinion on Congressional Redistricting")
        assert first["published_at"] == "2025-05-19T17:10:09Z"  # createdAt with microseconds
        assert first["author_hash"] == author_hash("socpaperbot.bsky.social", key_for(config))
        html = rows(monitor, "SELECT summary_html FROM items WHERE id = ?", [first["id"]])[0]["summary_html"]
        assert '<a href="https://osf.io/v87fn" rel="noopener noreferrer nofollow">https://osf.io/v87fn</a>' in html
        replies = [p for p in posts.values() if p["is_reply"]]
        assert replies and all(p["replies"] is not None for p in posts.values())
        assert monitor.store.state(result.source.id).cursor == "2025-05-19T17:10:09Z"
    assert "skipped 4 post(s) of accounts that asked not to be shown to logged-out viewers" in caplog.text
    (login,) = bluesky_api.calls(CREATE)
    assert json.loads(login.body) == {"identifier": bluesky_api.handle, "password": bluesky_api.app_password}
    (search,) = bluesky_api.calls(SEARCH)
    assert bluesky_api.searches() == [{"q": "redistricting", "sort": "latest", "limit": "100"}]
    assert search.headers["authorization"].startswith("Bearer ") and search.headers["accept"] == "application/json"


# --- our own posts (tests/data) ---------------------------------------------------------------------


def test_our_posts_land_once_with_labels_opt_outs_and_clocks_handled(bluesky_api, make_config, caplog):
    now, _posts = ours()
    add_ours(bluesky_api)
    config = make_config(bluesky=section(bluesky_api, "grooming", "Online Safety Act"))
    with caplog.at_level(logging.INFO), open_monitor(config, clock=lambda: now) as monitor:
        results = monitor.collect().results
        assert all(r.status == "ok" for r in results)
        posts = {p["id"]: p for p in rows(monitor, "SELECT * FROM social_posts")}
        assert len(posts) == 5  # 9 valid posts: 2 labelled sensitive, 1 hidden, 1 opted out
        cafe = posts["at://did:plc:oursinventedaaaaaaaaaaa1/app.bsky.feed.post/3oursaaaaaa01"]
        assert cafe["text"].startswith("Café talk 🧑‍🏫: the online grooming of children starts with kindness")
        assert cafe["link"] == "https://harbourton.example/guide"  # the embed's link, tracking removed
        assert cafe["published_at"] == "2026-03-12T08:30:00Z"
        assert (cafe["likes"], cafe["replies"], cafe["reposts"]) == (5, 1, 2)
        html = rows(monitor, "SELECT summary_html FROM items WHERE id = ?", [cafe["id"]])[0]["summary_html"]
        # the facet's byte offsets point past multi-byte characters: the link covers exactly its text
        assert html.endswith('Guide: <a href="https://harbourton.example/guide?utm_source=bsky"'
                             ' rel="noopener noreferrer nofollow">harbourton.example/guide</a>')
        assert posts["at://did:plc:oursinventedaaaaaaaaaaa2/app.bsky.feed.post/3oursaaaaaa02"]["is_reply"] == 1
        clock = posts["at://did:plc:oursinventedaaaaaaaaaaa8/app.bsky.feed.post/3oursaaaaaa08"]
        assert clock["published_at"] == "2026-03-12T06:00:00Z"  # a year-fast createdAt: indexedAt instead
        gone = posts["at://did:plc:oursinventedaaaaaaaaaaa9/app.bsky.feed.post/3oursaaaaaa09"]
        assert gone["author_hash"] is None  # handle.invalid is nobody
        assert cafe["author_hash"] == author_hash("harbourton-parents.ours.test", key_for(config))
        # The post found by both searches is one item, carried by both.
        both = rows(monitor, "SELECT COUNT(*) AS n FROM item_sources WHERE item_id = ?",
                    ["at://did:plc:oursinventedbridgeaaaaa/app.bsky.feed.post/3oursbridged1"])[0]["n"]
        assert both == 2
        assert rows(monitor, "SELECT relevant FROM items WHERE id = ?", [cafe["id"]])[0]["relevant"] == 1
    assert "skipped 2 post(s) labelled sensitive (bluesky.include_sensitive is off)" in caplog.text
    assert "skipped 1 post(s) hidden or taken down by moderation" in caplog.text
    assert "skipped 1 post(s) of accounts that asked not to be shown to logged-out viewers" in caplog.text
    assert "skipped: no post uri or no text ('https://not-an-at-uri.ours.test/3oursbroken')" in caplog.text


def test_sensitive_and_opted_out_posts_and_handles_as_configured(bluesky_api, make_config):
    now, _posts = ours()
    add_ours(bluesky_api)
    config = make_config(bluesky=section(bluesky_api, "grooming", include_sensitive=True, respect_opt_outs=False,
                                         hash_authors=False))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        monitor.collect()
        authors = {p["author_hash"] for p in rows(monitor, "SELECT author_hash FROM social_posts")}
    assert {"adult-content.ours.test", "self-labelled.ours.test", "logged-in-only.ours.test"} <= authors
    assert "hidden.ours.test" not in authors  # moderation's !hide always applies


def test_a_bluesky_post_bridged_to_mastodon_is_one_item(bluesky_api, mastodon_instances, make_config):
    now, _posts = ours()
    add_ours(bluesky_api)
    instance, _other = mastodon_instances
    for status in our_data("mastodon", "ours_statuses.json")["statuses"]:
        instance.add_status(status)
    config = make_config(bluesky=section(bluesky_api, "Online Safety Act"),
                         mastodon={"hashtags": [{"instance": instance.base_url, "tag": "OnlineSafety"}]})
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        monitor.collect()
        uri = "at://did:plc:oursinventedbridgeaaaaa/app.bsky.feed.post/3oursbridged1"
        carried = {r["source_id"] for r in rows(monitor, "SELECT source_id FROM item_sources WHERE item_id = ?", [uri])}
        assert carried == {"bluesky:online-safety-act", f"mastodon:{instance.host.replace(':', '-').replace('.', '-')}"
                                                         "-onlinesafety"}


def test_searches_are_incremental_since_the_newest_post_and_page_with_the_cursor(bluesky_api, make_config):
    now, posts = ours()
    template = posts[0]

    def add(count: int, start: int, newest: datetime) -> None:
        for n in range(start, start + count):  # a post a minute up to ``newest``
            post = copy.deepcopy(template)
            post["uri"] = f"at://did:plc:oursinventedaaaaaaaaaaa1/app.bsky.feed.post/3paging{n:05d}"
            post["record"]["text"] = f"grooming post {n}: distinct words {n * 7} {n * 13} {n * 17}"
            post["record"].pop("facets")
            stamp = (newest - timedelta(minutes=start + count - 1 - n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            post["record"]["createdAt"] = post["indexedAt"] = stamp
            bluesky_api.add_post(post)

    add(150, 0, now - timedelta(hours=5))
    config = make_config(bluesky=section(bluesky_api, "grooming post"))
    clock = [now]
    with open_monitor(config, clock=lambda: clock[0], tag=no_tags) as monitor:
        first = monitor.collect().results[0]
        assert first.new == 100  # one page the first time: the newest 100 minutes
        cursor = monitor.store.state(first.source.id).cursor
        assert cursor == to_iso_at(now - timedelta(hours=5))
        add(230, 150, now)
        clock[0] = now + timedelta(minutes=30)
        second = monitor.collect(force=True).results[0]
        # the 230 new ones; the hour of overlap before the cursor is read again, not stored again
        assert (second.status, second.new, second.seen) == ("ok", 230, 61)
        assert monitor.store.state(first.source.id).cursor == to_iso_at(now)
    searches = bluesky_api.searches()
    assert "since" not in searches[0] and "cursor" not in searches[0]
    assert searches[1]["since"] == to_iso_at(from_iso(cursor) - timedelta(hours=1))  # an hour of overlap
    assert [s.get("cursor") for s in searches[1:]] == [None, "100", "200"]  # 291 posts since the overlap
    assert bluesky_api.logins == 1  # one login for both cycles


def to_iso_at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_missing_credentials_skip_bluesky_with_one_warning_naming_the_variable(bluesky_api, server, make_config,
                                                                               monkeypatch, caplog):
    monkeypatch.delenv("BLUESKY_APP_PASSWORD")
    from tests.conftest import DATA

    feeds = serve_files(server, {"news": DATA / "feeds" / "ours_rss20.xml"})
    config = make_config(feeds=feeds, bluesky=section(bluesky_api, "grooming", "sextortion"))
    with caplog.at_level(logging.WARNING), open_monitor(config, tag=no_tags) as monitor:
        results = {r.source.name: r for r in monitor.collect().results}
    assert results["news"].status == "ok"
    skipped = [r for r in results.values() if r.source.kind == "bluesky"]
    assert [r.status for r in skipped] == ["skipped", "skipped"]
    assert "BLUESKY_APP_PASSWORD is not set" in skipped[0].error
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["Bluesky credentials missing: BLUESKY_APP_PASSWORD is not set (environment variable or"
                        " systemd credential; an app password from the Bluesky settings); skipping 2 Bluesky"
                        " source(s), collecting the rest"]
    assert bluesky_api.calls() == []


def test_a_refused_login_fails_bluesky_once_and_names_the_secrets(bluesky_api, make_config, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "wrong-wrong-wrong-wrong")
    config = make_config(bluesky=section(bluesky_api, "grooming", "sextortion"))
    with open_monitor(config, tag=no_tags) as monitor:
        results = monitor.collect().results
    assert [r.status for r in results] == ["failed", "failed"]
    refused = next(r for r in results if not r.error.startswith("not tried"))
    assert refused.error == ("Bluesky refused the login (HTTP 401: AuthenticationRequired: Invalid identifier or"
                             " password): check BLUESKY_HANDLE (the handle) and BLUESKY_APP_PASSWORD (an app password)")
    assert len(bluesky_api.calls(CREATE)) == 1  # the other search is not tried with the same password
    assert bluesky_api.calls(SEARCH) == []


def test_an_expired_token_is_renewed_and_a_revoked_session_logs_in_again(bluesky_api, make_config):
    now, _posts = ours()
    add_ours(bluesky_api)
    config = make_config(bluesky=section(bluesky_api, "grooming"))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        assert monitor.collect().results[0].status == "ok"
        bluesky_api.expire_tokens()
        again = monitor.collect(force=True).results[0]
        assert again.status == "ok", again.error
        assert (bluesky_api.logins, bluesky_api.refreshes) == (1, 1)
        bluesky_api.expire_tokens()
        bluesky_api.refresh.clear()  # the refresh token is revoked too
        third = monitor.collect(force=True).results[0]
        assert third.status == "ok", third.error
        assert (bluesky_api.logins, bluesky_api.refreshes) == (2, 1)
    statuses = [(r.path, r.method) for r in bluesky_api.calls() if r.path in (CREATE, REFRESH)]
    assert statuses == [(CREATE, "POST"), (REFRESH, "POST"), (REFRESH, "POST"), (CREATE, "POST")]


def test_a_token_about_to_expire_is_renewed_before_it_is_used(bluesky_api, make_config):
    now, _posts = ours()
    add_ours(bluesky_api)
    bluesky_api.access_lifetime = 30  # expires within the renewal margin
    config = make_config(bluesky=section(bluesky_api, "grooming", "sextortion"))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        monitor.collect()
        monitor.collect(force=True)
    assert bluesky_api.logins == 1 and bluesky_api.refreshes >= 1
    assert all(json.loads(r.body or b"{}") == {} for r in bluesky_api.calls(REFRESH))


def test_tokens_and_the_app_password_never_reach_logs_or_the_database(bluesky_api, make_config, caplog, tmp_path):
    now, _posts = ours()
    add_ours(bluesky_api)
    bluesky_api.reply(SEARCH, json_reply({"error": "InternalServerError", "message": "boom"}, 500),
                      params={"q": "sextortion"})
    config = make_config(bluesky=section(bluesky_api, "grooming", "sextortion"))
    with caplog.at_level(logging.DEBUG), open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        monitor.collect()
        bluesky_api.expire_tokens()
        monitor.collect(force=True)
        session = monitor._bluesky_session
        assert bluesky_api.app_password not in repr(session) and "Jwt" not in repr(session)
    secrets = [bluesky_api.app_password, *bluesky_api.refresh, *bluesky_api.expired, *bluesky_api.access]
    assert len(secrets) > 3
    logged = caplog.text
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    for secret in secrets:
        assert secret not in logged
        assert secret.encode() not in stored


def test_rate_limits_and_server_errors_fail_their_search_and_spare_the_rest(bluesky_api, hansard_api, make_config):
    now, _posts = ours()
    add_ours(bluesky_api)
    reset = int(datetime.now(timezone.utc).timestamp()) + 2 * 3600
    bluesky_api.reply(SEARCH, json_reply({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, 429, {
        "RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset),
        "RateLimit-Policy": "3000;w=300"}), params={"q": "sextortion"}, times=None)
    hansard_api.add(our_data("parliament", "ours_contributions.json")["results"][0])
    config = make_config(bluesky=section(bluesky_api, "sextortion"),
                         hansard={"api_url": hansard_api.base_url, "searches": [{"query": "grooming"}]})
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        results = {r.source.kind: r for r in monitor.collect().results}
        limited = results["bluesky"]
        assert results["hansard"].status == "ok"
        assert limited.status == "failed" and limited.http_status == 429
        assert limited.error.startswith("Bluesky rate limit (HTTP 429) for the search 'sextortion'"
                                        " (RateLimitExceeded: Rate Limit Exceeded); retry after")
        state = monitor.store.state(limited.source.id)
        assert state.next_due_at >= now + timedelta(hours=1, minutes=55)  # RateLimit-Reset, an epoch time


def test_a_rate_limit_with_retry_after_fails_the_search_and_waits_as_told(bluesky_api, make_config):
    """A 429 with Retry-After (as a proxy in front of the server sends): the search
    fails and is left alone exactly that long, even though RateLimit-Reset says sooner;
    the other search lands."""
    now, _posts = ours()
    add_ours(bluesky_api)
    soon = int(datetime.now(timezone.utc).timestamp()) + 600
    bluesky_api.reply(SEARCH, json_reply({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, 429, {
        "Retry-After": "5400", "RateLimit-Remaining": "0", "RateLimit-Reset": str(soon)}),
        params={"q": "sextortion"}, times=None)
    config = make_config(bluesky=section(bluesky_api, "sextortion", "grooming"))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        results = {r.source.name: r for r in monitor.collect().results}
        limited, other = results["Bluesky search: sextortion"], results["Bluesky search: grooming"]
        assert other.status == "ok" and other.new > 0
        assert limited.status == "failed" and limited.http_status == 429 and limited.new == 0
        assert limited.error == ("Bluesky rate limit (HTTP 429) for the search 'sextortion'"
                                 " (RateLimitExceeded: Rate Limit Exceeded); retry after 5400 s")
        state = monitor.store.state(limited.source.id)
        assert state.failures == 1 and state.next_due_at == now + timedelta(seconds=5400)
        again = {r.source.name: r for r in monitor.collect().results}
        assert again["Bluesky search: sextortion"].status == "skipped"  # still waiting, as told
    assert [s["q"] for s in bluesky_api.searches()].count("sextortion") == 1


def test_a_search_with_no_posts_is_a_success_with_no_items(bluesky_api, make_config, caplog):
    now, posts = ours()
    add_ours(bluesky_api)
    config = make_config(bluesky=section(bluesky_api, "nothing posted about this"))
    clock = [now]
    with caplog.at_level(logging.WARNING), open_monitor(config, clock=lambda: clock[0], tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        assert (result.status, result.new, result.updated, result.error) == ("ok", 0, 0, None)
        assert monitor.store.count_items() == 0
        state = monitor.store.state(result.source.id)
        assert state.failures == 0 and state.last_success_at == now
        # a post that matches later still lands: the empty answer moved no cursor past it
        match = copy.deepcopy(posts[0])
        match["uri"] = "at://did:plc:oursinventedaaaaaaaaaaa1/app.bsky.feed.post/3nothinglater"
        match["record"]["text"] = "Finally, nothing posted about this until now."
        bluesky_api.add_post(match)
        clock[0] = now + timedelta(hours=1)
        later = monitor.collect(force=True).results[0]
        assert (later.status, later.new) == ("ok", 1)
    assert [s["q"] for s in bluesky_api.searches()] == ["nothing posted about this"] * 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_failure_on_a_later_page_keeps_the_posts_and_the_cursor(bluesky_api, make_config):
    now, posts = ours()
    add_ours(bluesky_api)
    config = make_config(bluesky=section(bluesky_api, "grooming"))
    clock = [now]
    with open_monitor(config, clock=lambda: clock[0], tag=no_tags) as monitor:
        monitor.collect()
        cursor = monitor.store.state("bluesky:grooming").cursor
        for n in range(130):
            post = copy.deepcopy(posts[1])
            post["uri"] = f"at://did:plc:oursinventedaaaaaaaaaaa2/app.bsky.feed.post/3later{n:05d}"
            post["record"]["text"] = f"grooming note {n}: words {n * 5} {n * 19} {n * 23}"
            post["record"]["createdAt"] = post["indexedAt"] = (now + timedelta(minutes=n + 1)).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z")
            bluesky_api.add_post(post)
        bluesky_api.reply(SEARCH, Reply(503, {"Content-Type": "text/plain"}, b"upstream unavailable"),
                          params={"cursor": "100"})
        clock[0] = now + timedelta(hours=3)
        result = monitor.collect(force=True).results[0]
        assert result.status == "failed" and result.new == 100
        assert "Bluesky answered HTTP 503 for the search 'grooming'" in result.error
        assert monitor.store.state("bluesky:grooming").cursor == cursor  # the older pages are still unread
        retried = monitor.collect(force=True).results[0]
        assert (retried.status, retried.new) == ("ok", 30)


def test_a_createdAt_out_of_range_is_a_wrong_clock_and_the_rest_of_the_page_lands(bluesky_api, make_config):
    """Any client may write any createdAt: one that overflows on conversion to UTC is a
    wrong clock like any other (indexedAt is used), not an error that stops the search."""
    now, posts = ours()
    odd = copy.deepcopy(posts[0])
    odd["uri"] = "at://did:plc:oursinventedaaaaaaaaaaa1/app.bsky.feed.post/3oddclock"
    odd["record"]["text"] = "An invented grooming post whose client wrote the year 1."
    odd["record"].pop("facets")
    odd["record"]["createdAt"] = "0001-01-01T00:00:00+14:00"
    late = copy.deepcopy(posts[0])
    late["uri"] = "at://did:plc:oursinventedaaaaaaaaaaa1/app.bsky.feed.post/3oddindex"
    late["record"]["text"] = "An invented grooming post indexed at the end of time."
    late["record"].pop("facets")
    late["indexedAt"] = "9999-12-31T23:59:59-14:00"
    bluesky_api.reply(SEARCH, json_reply({"posts": [odd, late, copy.deepcopy(posts[0])]}), times=None)
    config = make_config(bluesky=section(bluesky_api, "grooming"))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        assert (result.status, result.new) == ("ok", 3), result.error
        stored = {p["id"]: p["published_at"] for p in rows(monitor, "SELECT id, published_at FROM social_posts")}
        assert stored[odd["uri"]] == "2026-03-12T08:30:01Z"  # its indexedAt
        assert stored[late["uri"]] == "2026-03-12T08:30:00Z"  # its createdAt
        state = monitor.store.state(result.source.id)
        assert state.failures == 0 and state.cursor == "2026-03-12T08:30:01Z"
        assert state.next_due_at > now  # polled again on its schedule, not every tick


# --- pure parts -----------------------------------------------------------------------------------------


def test_post_links_times_and_token_expiry():
    assert post_url("https://bsky.app", "at://did:plc:abc/app.bsky.feed.post/3xyz") == \
        "https://bsky.app/profile/did:plc:abc/post/3xyz"
    assert post_url("https://bsky.app", "at://did:plc:abc/app.bsky.feed.like/3xyz") is None
    assert post_url("https://bsky.app", "https://example.org/") is None
    post = {"record": {"createdAt": "2025-05-19T02:03:20.286393+00:00"}, "indexedAt": "2025-05-19T02:03:20.416Z"}
    assert published_time(post) == datetime(2025, 5, 19, 2, 3, 20, 286393, tzinfo=timezone.utc)
    assert published_time({"record": {"createdAt": "garbage"}, "indexedAt": "2025-05-19T02:03:20Z"}) == \
        datetime(2025, 5, 19, 2, 3, 20, tzinfo=timezone.utc)
    import base64

    payload = base64.urlsafe_b64encode(b'{"exp": 1747676784}').decode().rstrip("=")
    assert token_expiry(f"x.{payload}.sig") == 1747676784.0
    assert token_expiry("not a jwt") is None


def test_facets_with_bad_offsets_or_schemes_are_left_as_text():
    text = "see example.org and evil"
    facets = [{"index": {"byteStart": 4, "byteEnd": 15}, "features": [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/"}]},
              {"index": {"byteStart": 20, "byteEnd": 24}, "features": [
                  {"$type": "app.bsky.richtext.facet#link", "uri": "javascript:alert(1)"}]},
              {"index": {"byteStart": 50, "byteEnd": 99}, "features": [
                  {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/x"}]}]
    html = facet_html(text, facets)
    assert html == ('see <a href="https://example.org/" rel="noopener noreferrer nofollow">example.org</a>'
                    " and evil")
    assert facet_html("<b>hi</b>", None) == "&lt;b&gt;hi&lt;/b&gt;"

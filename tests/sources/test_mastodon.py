"""Collecting Mastodon hashtag timelines end to end: the collector -> fake instances on
127.0.0.1 -> SQLite.

The fake instances (monitor.demo.mastodon_api) replay timelines recorded from
mastodon.social, fosstodon.org and a Mastodon 4.6 server in ../shared/fixtures/mastodon
(tests marked ``shared``), and serve our own invented statuses from tests/data/mastodon,
so every behaviour is covered without ../shared too.
"""

from __future__ import annotations

import copy
import logging
from datetime import datetime, timedelta, timezone

import pytest

from monitor.app import open_monitor
from monitor.demo.fake_api import json_reply
from monitor.demo.mastodon_api import TAG_PREFIX
from monitor.demo.server import Reply
from monitor.privacy import load_hash_key
from monitor.sources.api import link_params
from monitor.sources.mastodon import canonical_uri, full_acct
from monitor.sources.normalise import author_hash
from monitor.types import from_iso
from tests.conftest import shared_path
from tests.helpers import our_data, recorded, rows

RECORDED_NOW = datetime(2025, 7, 17, 20, 5, tzinfo=timezone.utc)
MASTODON_SOCIAL = ("fixtures", "mastodon", "rtoot__get_timeline_hashtag_anonymous.yml")
FOSSTODON = ("fixtures", "mastodon", "rtoot__get_timeline_hashtag_default.yml")


def no_tags(items):
    return {}


def ours():
    data = our_data("mastodon", "ours_statuses.json")
    return from_iso(data["now"]), data["statuses"]


def section(*pairs, **overrides) -> dict:
    """``[mastodon]`` with a hashtag per (instance, tag)."""
    return {"hashtags": [{"instance": instance.base_url, "tag": tag} for instance, tag in pairs], **overrides}


def key_for(config) -> bytes:
    return load_hash_key(config.storage.path)


# --- recorded timelines (../shared) ------------------------------------------------------------


@pytest.mark.shared
def test_the_same_five_posts_from_two_instances_are_five_items_with_both_sources(mastodon_instances, make_config):
    social, fosstodon = mastodon_instances
    social.reply(f"{TAG_PREFIX}rstats", recorded(shared_path(*MASTODON_SOCIAL), "/timelines/tag/rstats"))
    fosstodon.reply(f"{TAG_PREFIX}rstats", recorded(shared_path(*FOSSTODON), "/timelines/tag/rstats"))
    config = make_config(mastodon=section((social, "rstats"), (fosstodon, "rstats")))
    with open_monitor(config, clock=lambda: RECORDED_NOW, tag=no_tags) as monitor:
        results = monitor.collect().results
        assert sorted((r.status, r.new, r.seen) for r in results) == [("ok", 0, 5), ("ok", 5, 0)]
        posts = {p["url"]: p for p in rows(monitor, "SELECT * FROM social_posts")}
        assert len(posts) == 5  # ids differ per instance; the uri does not
        links = rows(monitor, "SELECT item_id, COUNT(*) AS n FROM item_sources GROUP BY item_id")
        assert {link["n"] for link in links} == {2}
        conf = posts["https://mastodon.social/@useR_conf/114869631572884594"]
        assert conf["network"] == "mastodon"
        assert conf["id"].startswith("social:") and "useR_conf" not in conf["id"]  # a hash of the uri
        assert conf["text"].startswith("The conference is almost sold out so make sure to get a ticket. Less than 50 left!")
        assert "<" not in conf["text"] and conf["reposts"] == 6
        # 'useR_conf' on mastodon.social is 'useR_conf@mastodon.social' on fosstodon: one author, one hash.
        assert conf["author_hash"] == author_hash("useR_conf@mastodon.social", key_for(config))
        fun = posts["https://hachyderm.io/@zkamvar/114869598497920330"]
        assert fun["text"].startswith("Fun thing that @snystrom and I found today for those using #AWS in #Rstats")
        assert "https://github.com/cloudyr/aws.s3/pull/438" in fun["text"]  # the link written out in full
        assert fun["published_at"] == "2025-07-17T16:49:33Z"
        # A post bridged from Bluesky has its Bluesky id, so a Bluesky search finds the same item.
        assert "at://did:plc:hmk4f5yf3ohtsvw32sbtwvk3/app.bsky.feed.post/3lu66quubp22m" in {
            p["id"] for p in posts.values()}
        states = monitor.store.states()
        assert {states[s.id].cursor for s in monitor.sources} == {"114870142396314555", "114870142263126875"}


@pytest.mark.shared
def test_the_next_poll_asks_for_posts_newer_than_the_links_min_id(mastodon_instances, make_config):
    social, _other = mastodon_instances
    social.reply(f"{TAG_PREFIX}rstats", recorded(shared_path(*MASTODON_SOCIAL), "/timelines/tag/rstats"))
    config = make_config(mastodon=section((social, "rstats")))
    with open_monitor(config, clock=lambda: RECORDED_NOW, tag=no_tags) as monitor:
        assert monitor.collect().results[0].new == 5
        second = monitor.collect(force=True).results[0]  # the model instance knows no newer posts
        assert (second.status, second.new) == ("ok", 0)
    first, again = social.calls(f"{TAG_PREFIX}rstats")
    assert "min_id" not in first.query and "limit=40" in first.query
    assert "min_id=114870142396314555" in again.query


@pytest.mark.shared
def test_the_newest_status_schema_parses(mastodon_instances, make_config):
    instance, _other = mastodon_instances
    instance.reply(f"{TAG_PREFIX}hoot", recorded(shared_path("fixtures", "mastodon", "mastodonpy__test_hashtag_tl.yaml"),
                                                 "/timelines/tag/hoot"))
    config = make_config(mastodon=section((instance, "hoot")))
    with open_monitor(config, clock=lambda: datetime(2026, 8, 1, 14, tzinfo=timezone.utc), tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        assert (result.status, result.new) == ("ok", 1), result.error
        (post,) = rows(monitor, "SELECT * FROM social_posts")
        assert post["text"] == "#hoot (hashtag toot)" and post["language"] == "ja"
        assert post["id"].startswith("social:") and "117020566092212359" not in post["id"]


# --- our own statuses (tests/data) --------------------------------------------------------------------


def federate(instances, statuses):
    """Each of our statuses on every instance (remote there: ``acct`` has its domain)."""
    for instance in instances:
        for status in statuses:
            instance.add_status(copy.deepcopy(status))


def test_our_statuses_land_once_across_instances_with_the_right_fields(mastodon_instances, make_config, caplog):
    now, statuses = ours()
    federate(mastodon_instances, statuses)
    a, b = mastodon_instances
    config = make_config(mastodon=section((a, "OnlineSafety"), (b, "onlinesafety"), (a, "OnlineSafetyAct")))
    with caplog.at_level(logging.INFO), open_monitor(config, clock=lambda: now) as monitor:
        results = {r.source.id: r for r in monitor.collect().results}
        assert all(r.status == "ok" for r in results.values())
        assert sum(r.new for r in results.values()) == 3
        posts = {p["url"]: p for p in rows(monitor, "SELECT * FROM social_posts")}
        assert set(posts) == {
            "https://harbourton.example/@harbourtonparents/109000000000000001",
            "https://fed.brid.gy/r/https://bsky.app/profile/did:plc:oursinventedbridgeaaaaa/post/3oursbridged1",
            "https://ashvale.example/@ashvalenews/109000000000000006",
        }
        bridged = posts["https://fed.brid.gy/r/https://bsky.app/profile/did:plc:oursinventedbridgeaaaaa/post/3oursbridged1"]
        assert bridged["id"] == "at://did:plc:oursinventedbridgeaaaaa/app.bsky.feed.post/3oursbridged1"
        news = posts["https://ashvale.example/@ashvalenews/109000000000000006"]
        assert news["link"] == "https://news.ashvale.example/ofcom-chat-app"  # tracking parameter removed
        assert "https://news.ashvale.example/ofcom-chat-app?utm_source=mastodon" in news["text"]
        assert (news["likes"], news["replies"], news["reposts"]) == (12, 0, 6)
        item = rows(monitor, "SELECT summary_html, title, relevant FROM items WHERE id = ?", [news["id"]])[0]
        assert "<script" not in item["summary_html"] and "alert(1)" not in item["summary_html"]
        assert item["title"].startswith("Ofcom opens an investigation into a chat app over grooming risks")
        parents = posts["https://harbourton.example/@harbourtonparents/109000000000000001"]
        assert parents["author_hash"] == author_hash("harbourtonparents@harbourton.example", key_for(config))
        assert parents["relevant"] == 1  # tagged like any item
        # Each post is linked to every source that carried it.
        carried = rows(monitor, "SELECT COUNT(*) AS n FROM item_sources WHERE item_id = ?", [parents["id"]])[0]["n"]
        assert carried == 2
    assert "skipped 1 post(s) marked sensitive (mastodon.include_sensitive is off)" in caplog.text
    assert "skipped 2 post(s) of accounts that opted out of indexing" in caplog.text
    assert "skipped: no uri or no text" in caplog.text


def test_account_names_stay_out_of_ids_and_extra_fields(mastodon_instances, make_config, tmp_path):
    """An ActivityPub uri names its account (/users/NAME/statuses/ID): the item id is a
    hash of it, the same on every instance, and the uri is not stored. Only the link to
    the post (its page) names the account."""
    now, statuses = ours()
    federate(mastodon_instances, statuses)
    a, b = mastodon_instances
    config = make_config(mastodon=section((a, "OnlineSafety"), (b, "OnlineSafety")))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        results = monitor.collect().results
        assert sorted(r.new for r in results) == [0, 3]  # the second instance's copies are the same items
        stored = rows(monitor, "SELECT id, url, extra FROM items WHERE media = 'social'")
    names = ("harbourtonparents", "ashvalenews")
    mastodon = [row for row in stored if not row["id"].startswith("at://")]
    assert len(mastodon) == 2
    for row in mastodon:
        assert row["id"].startswith("social:") and not any(name in row["id"] for name in names)
        assert not any(name in row["extra"] for name in names) and "uri" not in row["extra"]
        assert any(f"/@{name}/" in row["url"] for name in names)  # the post's page, as a link must


def test_sensitive_and_opted_out_posts_and_names_as_configured(mastodon_instances, make_config):
    now, statuses = ours()
    a, _b = mastodon_instances
    federate([a], statuses)
    config = make_config(mastodon=section((a, "OnlineSafety"), include_sensitive=True, respect_opt_outs=False,
                                          hash_authors=False))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        assert monitor.collect().results[0].new == 6
        posts = {p["author_hash"]: p for p in rows(monitor, "SELECT * FROM social_posts")}
        warned = posts["survivorstories@kellow.example"]
        assert warned["content_warning"] == "child abuse, personal account"
        assert "privateperson@kellow.example" in posts and "nobotplease@ashvale.example" in posts


def test_a_local_account_is_named_with_its_instance(mastodon_instances, make_config):
    now, statuses = ours()
    a, b = mastodon_instances
    local = copy.deepcopy(statuses[0])
    local["account"]["acct"] = "harbourtonparents"  # as its home instance reports it
    a.add_status(local)
    b.add_status(copy.deepcopy(statuses[0]))
    config = make_config(mastodon=section((a, "OnlineSafety"), (b, "OnlineSafety")))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        monitor.collect()
        (post,) = rows(monitor, "SELECT author_hash FROM social_posts")
        assert post["author_hash"] == author_hash("harbourtonparents@harbourton.example", key_for(config))


def test_polls_are_incremental_with_min_id_and_page_forward(mastodon_instances, make_config):
    now, statuses = ours()
    instance, _b = mastodon_instances
    template = statuses[0]

    def add(count: int, start: int, when: datetime) -> None:
        for n in range(start, start + count):
            status = copy.deepcopy(template)
            status["uri"] = f"https://harbourton.example/users/harbourtonparents/statuses/2{n:05d}"
            status["url"] = f"https://harbourton.example/@harbourtonparents/2{n:05d}"
            status["content"] = f"<p>Post number {n} about #OnlineSafety, with words {n * 7} and {n * 13}.</p>"
            status["created_at"] = (when + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            instance.add_status(status)

    add(100, 0, now - timedelta(hours=5))
    config = make_config(mastodon=section((instance, "OnlineSafety")))
    clock = [now]
    with open_monitor(config, clock=lambda: clock[0], tag=no_tags) as monitor:
        first = monitor.collect().results[0]
        assert first.new == 80  # the newest two pages of 40 the first time
        newest = monitor.store.state(first.source.id).cursor
        assert newest == max(instance.statuses, key=int).__str__()
        add(95, 100, now)
        clock[0] = now + timedelta(minutes=30)
        second = monitor.collect(force=True).results[0]
        assert (second.status, second.new) == ("ok", 95)  # 40 + 40 + 15, forward from the cursor
        assert monitor.store.state(first.source.id).cursor == str(max(instance.statuses))
        third = monitor.collect(force=True).results[0]
        assert (third.new, third.seen) == (0, 0)
    calls = instance.calls(f"{TAG_PREFIX}OnlineSafety")
    params = [dict(p.split("=", 1) for p in call.query.split("&")) for call in calls]
    assert [("max_id" in p, "min_id" in p) for p in params[:2]] == [(False, False), (True, False)]
    assert params[2]["min_id"] == newest and all("min_id" in p for p in params[2:])
    assert len(params) == 6  # 2 first pages, 3 forward pages, 1 empty check


def too_many_requests(headers: dict[str, str]):
    """A 429 as Mastodon sends it, with these rate-limit headers."""
    return json_reply({"error": "Too many requests"}, 429, headers)


def test_a_rate_limit_fails_the_source_stops_that_instance_and_spares_the_others(mastodon_instances, make_config):
    now, statuses = ours()
    a, b = mastodon_instances
    federate(mastodon_instances, statuses)
    # The window resets in 4 hours by the wall clock (the server's clock, as in real life).
    reset = (datetime.now(timezone.utc) + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    a.reply(f"{TAG_PREFIX}OnlineSafety", too_many_requests({
        "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}), times=None)
    a.reply(f"{TAG_PREFIX}OnlineSafetyAct", too_many_requests({
        "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}), times=None)
    config = make_config(mastodon=section((a, "OnlineSafety"), (a, "OnlineSafetyAct"), (b, "OnlineSafety")))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        results = {(r.source.options["instance"], r.source.options["tag"]): r for r in monitor.collect().results}
        limited = results[(a.base_url, "OnlineSafety")]
        other_tag = results[(a.base_url, "OnlineSafetyAct")]
        assert results[(b.base_url, "OnlineSafety")].status == "ok"  # another instance is not affected
        assert limited.status == other_tag.status == "failed"
        first = next(r for r in (limited, other_tag) if not r.error.startswith("not tried"))
        assert first.error.startswith("Mastodon rate limit (HTTP 429) for #OnlineSafety")
        assert first.http_status == 429 and "(Too many requests)" in first.error
        assert "retry after" in first.error  # no Retry-After: the X-RateLimit-Reset time
        for result in (limited, other_tag):  # both wait for the window to reset
            assert monitor.store.state(result.source.id).next_due_at >= now + timedelta(hours=3, minutes=55)


def test_a_rate_limit_with_retry_after_fails_the_source_and_waits_as_told(mastodon_instances, make_config):
    """A 429 that says Retry-After (a proxy in front of the instance, or a future
    Mastodon): the source fails and is left alone exactly that long, even though the
    rate-limit window says sooner; the other instance lands."""
    now, statuses = ours()
    a, b = mastodon_instances
    federate(mastodon_instances, statuses)
    soon = (datetime.now(timezone.utc) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    a.reply(f"{TAG_PREFIX}OnlineSafety", too_many_requests({
        "Retry-After": "5400", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": soon}), times=None)
    config = make_config(mastodon=section((a, "OnlineSafety"), (b, "OnlineSafety")))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        results = {r.source.options["instance"]: r for r in monitor.collect().results}
        limited, other = results[a.base_url], results[b.base_url]
        assert other.status == "ok" and other.new > 0
        assert limited.status == "failed" and limited.http_status == 429 and limited.new == 0
        assert limited.error == (f"Mastodon rate limit (HTTP 429) for #OnlineSafety on {a.base_url.split('//')[1]}"
                                 " (Too many requests); retry after 5400 s")
        state = monitor.store.state(limited.source.id)
        assert state.failures == 1 and state.next_due_at == now + timedelta(seconds=5400)
        again = {r.source.options["instance"]: r for r in monitor.collect().results}
        assert again[a.base_url].status == "skipped"  # still waiting, as told
    assert len(a.server.requests_to(f"{TAG_PREFIX}OnlineSafety")) == 1


def test_a_server_error_part_way_keeps_what_was_read(mastodon_instances, make_config):
    now, statuses = ours()
    instance, _b = mastodon_instances
    for n in range(60):
        status = copy.deepcopy(statuses[0])
        status["uri"] = f"https://harbourton.example/users/harbourtonparents/statuses/3{n:05d}"
        status["url"] = f"https://harbourton.example/@harbourtonparents/3{n:05d}"
        status["content"] = f"<p>Entry {n}: distinct words {n * 3} {n * 11} {n * 17} #OnlineSafety</p>"
        status["created_at"] = (now - timedelta(minutes=120 - n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        instance.add_status(status)
    page_two = {"max_id": None}
    original = instance._timeline

    def failing_second_page(request):
        if "max_id=" in request.query:
            page_two["max_id"] = request.query
            return Reply(502, {"Content-Type": "text/html"}, b"<html>Bad Gateway</html>")
        return original(request)

    instance.server.prefix_routes.insert(0, (f"{TAG_PREFIX}OnlineSafety", failing_second_page))
    config = make_config(mastodon=section((instance, "OnlineSafety")))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        assert result.status == "failed" and result.new == 40
        assert result.error.startswith("Mastodon answered HTTP 502 for #OnlineSafety on 127.0.0.1:")
        assert "kept 40 new and 0 updated items fetched before it" in result.error
        assert monitor.store.state(result.source.id).cursor == str(max(instance.statuses))
    assert page_two["max_id"]


def test_a_status_time_out_of_range_is_stored_without_it_and_the_page_lands(mastodon_instances, make_config):
    now, statuses = ours()
    instance, _b = mastodon_instances
    odd = dict(copy.deepcopy(statuses[0]), id="600", created_at="0001-01-01T00:00:00+14:00",
               uri="https://harbourton.example/users/harbourtonparents/statuses/600",
               url="https://harbourton.example/@harbourtonparents/600")
    fine = dict(copy.deepcopy(statuses[0]), id="599")
    instance.reply(f"{TAG_PREFIX}OnlineSafety", json_reply([odd, fine]), times=None)
    config = make_config(mastodon=section((instance, "OnlineSafety")))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        assert (result.status, result.new) == ("ok", 2), result.error
        times = {p["url"]: p["published_at"] for p in rows(monitor, "SELECT url, published_at FROM social_posts")}
        assert times[odd["url"]] == now.strftime("%Y-%m-%dT%H:%M:%SZ")  # no time of its own: when it was collected
        assert times[fine["url"]] == from_iso(fine["created_at"]).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert monitor.store.state(result.source.id).failures == 0


def test_link_headers_never_send_requests_elsewhere(mastodon_instances, make_config):
    now, statuses = ours()
    instance, elsewhere = mastodon_instances
    page = [dict(copy.deepcopy(statuses[0]), id="500")]
    instance.reply(f"{TAG_PREFIX}OnlineSafety", json_reply(page, headers={
        "Link": f'<{elsewhere.base_url}/steal?max_id=400>; rel="next", <{elsewhere.base_url}/steal?min_id=500>; rel="prev"'}))
    config = make_config(mastodon=section((instance, "OnlineSafety")))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        assert monitor.collect().results[0].new == 1
        assert monitor.store.state(monitor.sources[0].id).cursor == "500"
    assert elsewhere.calls() == []


def test_answers_that_are_not_timelines_fail_cleanly(mastodon_instances, make_config):
    now, _statuses = ours()
    instance, _b = mastodon_instances
    instance.reply(f"{TAG_PREFIX}OnlineSafety", json_reply({"error": "This method requires an authenticated user"}))
    instance.reply(f"{TAG_PREFIX}OnlineSafety", Reply(200, {"Content-Type": "text/html"}, b"<!doctype html><p>hi"))
    config = make_config(mastodon=section((instance, "OnlineSafety")))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        first = monitor.collect().results[0]
        second = monitor.collect(force=True).results[0]
    where = f"#OnlineSafety on {instance.host}"
    assert first.error == (f"Mastodon answered {where} with something that is not a list of statuses"
                           " (This method requires an authenticated user)")
    assert second.error == f"Mastodon answered {where} with an HTML page, not JSON"


# --- pure parts ---------------------------------------------------------------------------------------


def test_link_header_parameters():
    header = ('<https://mastodon.social/api/v1/timelines/tag/rstats?limit=5&local=FALSE&max_id=114869144089828147'
              '&only_media=FALSE>; rel="next", <https://mastodon.social/api/v1/timelines/tag/rstats?limit=5&'
              'min_id=114870142396314555>; rel="prev"')
    found = link_params(header)
    assert found["next"]["max_id"] == "114869144089828147" and found["prev"]["min_id"] == "114870142396314555"
    assert link_params(None) == {} and link_params("garbage") == {}


def test_bridged_bluesky_posts_and_accounts_are_named_alike_everywhere():
    bridged = "https://bsky.brid.gy/convert/ap/at://did:plc:abc/app.bsky.feed.post/3xyz"
    assert canonical_uri(bridged) == "at://did:plc:abc/app.bsky.feed.post/3xyz"
    assert canonical_uri("https://mastodon.social/users/a/statuses/1") == "https://mastodon.social/users/a/statuses/1"
    assert full_acct({"acct": "alice", "url": "https://social.example/@alice"}, "other.example") == "alice@social.example"
    assert full_acct({"acct": "alice@social.example"}, "other.example") == "alice@social.example"
    assert full_acct({"acct": "alice"}, "other.example") == "alice@other.example"
    assert full_acct({}, "other.example") is None

"""Collecting feeds end to end: local HTTP server -> aiohttp -> feedparser -> SQLite.

Each behaviour is tested twice where possible: on the real-world feeds in
../shared/fixtures/feeds (skipped when that folder is absent) and on feeds we wrote
ourselves in tests/data/feeds.
"""

from __future__ import annotations


import pytest

from monitor.demo.server import static
from tests.conftest import DATA, shared_path
from tests.helpers import open_app, rows, serve_files

OURS = DATA / "feeds"

SHARED_EXPECTED = {
    "rss20_guardian_us_2018-01-31": 55,
    "atom_talkingpointsmemo_all_news_2017-11-08": 20,
    "rss10_rdf_science_this_week_2017-06-15": 69,
    "rss20_jn_pt_iso-8859-1_2018-01-03": 40,
    "rss_uol_noticias_latin1_undeclared_bozo_2018-09-24": 15,
    "rss20_google_news_search_brent_crude_trimmed_2026-08-05": 6,
    "rss20_bbc_news_urdu_2018-10-24": 26,
    "rss20_giantbomb_podcast_730_items_2019-10-01": 730,
}
REUTERS = "rss20_reuters_most_read_truncated_bozo_2020-03-21"


def items_by_source(monitor) -> dict[str, int]:
    return {
        row["name"]: row["n"]
        for row in rows(monitor, "SELECT s.name, COUNT(x.item_id) AS n FROM sources s"
                                 " LEFT JOIN item_sources x ON x.source_id = s.id GROUP BY s.id")
    }


@pytest.mark.shared
def test_every_shared_feed_is_collected_and_the_truncated_one_fails_cleanly(server, make_config, caplog):
    folder = shared_path("fixtures", "feeds")
    files = {p.stem: p for p in sorted(folder.glob("*.xml"))}
    assert set(SHARED_EXPECTED) | {REUTERS} <= set(files)
    with open_app(make_config, feeds=serve_files(server, files)) as monitor:
        report = monitor.collect()
        by_name = {r.source.name: r for r in report.results}
        assert by_name[REUTERS].status == "failed"
        assert "no element found" in by_name[REUTERS].error
        for name, expected in SHARED_EXPECTED.items():
            assert by_name[name].status == "ok", (name, by_name[name].error)
            assert by_name[name].new == expected, name
        assert items_by_source(monitor) == {**SHARED_EXPECTED, REUTERS: 0}
        failed = rows(monitor, "SELECT status, error FROM runs WHERE source_id = 'feed:' || ?",
                      [REUTERS.replace("_", "-")])
        assert failed and failed[0]["status"] == "failed" and failed[0]["error"]
    error_lines = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(error_lines) == 1 and REUTERS in error_lines[0].getMessage()


@pytest.mark.shared
def test_shared_latin1_feeds_decode_and_atom_links_become_absolute(server, make_config):
    folder = shared_path("fixtures", "feeds")
    names = ["rss20_jn_pt_iso-8859-1_2018-01-03", "rss_uol_noticias_latin1_undeclared_bozo_2018-09-24",
             "atom_talkingpointsmemo_all_news_2017-11-08"]
    with open_app(make_config, feeds=serve_files(server, {n: folder / f"{n}.xml" for n in names})) as monitor:
        monitor.collect()
        for name in names[:2]:
            texts = [r["title"] + " " + r["text"] for r in rows(
                monitor, "SELECT title, text FROM items WHERE source_id = ?", [f"feed:{name.replace('_', '-')}"])]
            joined = " ".join(texts)
            assert "\ufffd" not in joined and "Ã" not in joined, name  # no mojibake
            assert any(ch in joined for ch in "ãçéáõ"), name
        atom = rows(monitor, "SELECT url FROM items WHERE source_id LIKE 'feed:atom-%'")
        assert len(atom) == 20
        assert all(r["url"].startswith(server.base_url + "/") for r in atom)
        # JN has no GUIDs: items are keyed by their normalised links, one row each.
        jn = rows(monitor, "SELECT guid, url FROM items WHERE source_id LIKE 'feed:rss20-jn%'")
        assert len(jn) == 40 and all(r["guid"] is None and r["url"] for r in jn)
        # The tracking pixels are gone from stored HTML.
        html = " ".join(r["summary_html"] for r in rows(monitor, "SELECT summary_html FROM items"))
        assert "<img" not in html and "feedburner" not in html.lower()


def test_our_feeds_decode_resolve_sanitise_and_fail_cleanly(server, make_config):
    files = {p.stem: p for p in sorted(OURS.glob("*.xml"))}
    with open_app(make_config, feeds=serve_files(server, files)) as monitor:
        report = monitor.collect()
        by_name = {r.source.name: r for r in report.results}
        assert by_name["ours_truncated"].status == "failed"
        assert by_name["ours_rss20"].new == 4
        assert by_name["ours_iso-8859-1"].new == 3
        assert by_name["ours_latin1_undeclared"].new == 3  # bozo (encoding) but usable
        titles = {r["title"] for r in rows(monitor, "SELECT title FROM items")}
        assert "Câmara aprova orçamento para 2027" in titles
        urls = {r["title"]: r["url"] for r in rows(monitor, "SELECT title, url FROM items")}
        assert urls["Regulator publishes draft children's code"] == server.url("/policy/draft-childrens-code")
        # tracking parameters and fragments are normalised away
        assert urls["Police warn parents about messages on a gaming chat app"] == "https://gazette.test/news/police-warn-parents"
        assert urls["Dog grooming salon opens on the high street"] == "https://gazette.test/news/dog-grooming-salon"
        summaries = {r["title"]: r["summary_html"] for r in rows(monitor, "SELECT title, summary_html FROM items")}
        council = summaries["Council meeting notes"]
        assert "script" not in council and "onclick" not in council and "javascript:" not in council
        assert 'href="https://gazette.test/minutes"' in council
        assert "<img" not in summaries["Dog grooming salon opens on the high street"]
        dates = {r["title"]: r for r in rows(monitor, "SELECT title, published_at, collected_at FROM items")}
        assert dates["Council meeting notes"]["published_at"] == "2026-11-01T07:00:00Z"  # +0100 -> UTC
        weather = dates["Weather: a dry week ahead"]
        assert weather["published_at"] == weather["collected_at"]  # missing date -> collection time
        text = rows(monitor, "SELECT text FROM items WHERE title = 'Council meeting notes'")[0]["text"]
        assert "alert" not in text and "Minutes of the meeting." in text


def test_large_feed_lands_whole(server, make_config):
    """A 730-item feed of our own: every item stored once, and again none duplicated."""
    items = "".join(
        f"<item><title>Episode {i}</title><link>https://pod.test/ep/{i}</link>"
        f"<guid>pod-{i}</guid><description>Show notes {i}.</description></item>"
        for i in range(730)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Pod</title>{items}</channel></rss>'.encode()
    with open_app(make_config, feeds=serve_files(server, {"pod": body})) as monitor:
        assert monitor.collect().results[0].new == 730
        assert monitor.collect(force=True).results[0].status == "not_modified"
        assert monitor.store.count_items() == 730


@pytest.mark.shared
def test_shared_730_item_feed_lands_whole(server, make_config):
    path = shared_path("fixtures", "feeds", "rss20_giantbomb_podcast_730_items_2019-10-01.xml")
    with open_app(make_config, feeds=serve_files(server, {"giantbomb": path})) as monitor:
        result = monitor.collect().results[0]
        assert (result.status, result.new) == ("ok", 730)
        assert monitor.store.count_items() == 730


def test_conditional_get_sends_validators_and_304_writes_no_items(server, make_config):
    body = (OURS / "ours_rss20.xml").read_bytes()
    url = server.route("/feed.xml", static(body, etag='W/"v1"', last_modified=1_700_000_000))
    with open_app(make_config, feeds=[{"name": "gazette", "url": url}]) as monitor:
        first = monitor.collect().results[0]
        assert first.new == 4
        before = rows(monitor, "SELECT id, updated_at FROM items ORDER BY id")
        second = monitor.collect().results[0]
        assert second.status == "not_modified"
        request = server.requests_to("/feed.xml")[-1]
        assert request.headers["if-none-match"] == 'W/"v1"'  # exactly as received, weak prefix included
        assert request.headers["if-modified-since"] == "Tue, 14 Nov 2023 22:13:20 GMT"
        assert rows(monitor, "SELECT id, updated_at FROM items ORDER BY id") == before
        runs = rows(monitor, "SELECT status, new, seen FROM runs ORDER BY id")
        assert [r["status"] for r in runs] == ["ok", "not_modified"]
        state = rows(monitor, "SELECT etag, last_modified FROM fetch_state")[0]
        assert state == {"etag": 'W/"v1"', "last_modified": "Tue, 14 Nov 2023 22:13:20 GMT"}


def test_changed_entry_updates_its_row_and_never_duplicates(server, make_config):
    original = (OURS / "ours_rss20.xml").read_bytes()
    url = server.route("/feed.xml", static(original))
    with open_app(make_config, feeds=[{"name": "gazette", "url": url}]) as monitor:
        monitor.collect()
        changed = original.replace(b"Weather: a dry week ahead", b"Weather: rain after all")
        changed = changed.replace(b"<title>Test Gazette (invented)</title>",
                                  b"<title>Test Gazette (invented)</title><!-- v2 -->")
        server.route("/feed.xml", static(changed))
        result = monitor.collect().results[0]
        assert (result.new, result.updated, result.seen) == (0, 1, 3)
        assert monitor.store.count_items() == 4
        titles = {r["title"] for r in rows(monitor, "SELECT title FROM items")}
        assert "Weather: rain after all" in titles and "Weather: a dry week ahead" not in titles


def test_same_article_in_two_feeds_is_one_item_with_both_sources(server, make_config):
    a = (b'<rss version="2.0"><channel><title>A</title><item><title>Story</title>'
         b'<link>https://news.test/story?utm_source=a</link><guid isPermaLink="false">a-1</guid></item></channel></rss>')
    b = (b'<rss version="2.0"><channel><title>B</title><item><title>Story (B)</title>'
         b'<link>HTTPS://NEWS.test:443/story#top</link><guid isPermaLink="false">b-77</guid></item></channel></rss>')
    with open_app(make_config, feeds=serve_files(server, {"a": a, "b": b})) as monitor:
        monitor.collect()
        assert monitor.store.count_items() == 1
        linked = rows(monitor, "SELECT source_id, guid FROM item_sources ORDER BY source_id")
        assert linked == [{"source_id": "feed:a", "guid": "a-1"}, {"source_id": "feed:b", "guid": "b-77"}]


def test_one_failing_source_does_not_stop_the_others(server, make_config, caplog):
    good = serve_files(server, {"good": OURS / "ours_rss20.xml"})
    bad = [{"name": "down", "url": "http://127.0.0.1:9/feed.xml"},  # nothing listens on port 9
           {"name": "missing", "url": server.url("/no-such-feed.xml")}]
    with open_app(make_config, feeds=bad + good) as monitor:
        report = monitor.collect()
        status = {r.source.name: r.status for r in report.results}
        assert status == {"down": "failed", "missing": "failed", "good": "ok"}
        errors = {r.source.name: r.error for r in report.results if r.error}
        assert "HTTP 404" in errors["missing"]
        assert "connect" in errors["down"]
        assert monitor.store.count_items() == 4
    messages = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(messages) == 2 and all("\n" not in m for m in messages)

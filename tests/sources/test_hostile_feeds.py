"""Documents that must never reach feedparser, and HTML that must never reach storage."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from monitor.demo.server import static
from monitor.errors import ParseError
from monitor.sources.feeds import check_entities, parse_feed
from monitor.types import Source
from tests.conftest import DATA
from tests.helpers import open_app, rows

SOURCE = Source(id="feed:test", kind="feed", name="test", url="https://feed.test/rss")
NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<rss version="2.0"><channel><title>&c;</title><item><title>&c;</title><link>https://x.test/1</link></item></channel></rss>"""
BIG_ENTITY = (b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY big "' + b"x" * 70_000 + b'">]>\n<rss version="2.0"><channel>'
              + b"<item><title>&big;</title><link>https://x.test/1</link></item>" * 50 + b"</channel></rss>")
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><title>&xxe;</title><link>https://x.test/1</link></item></channel></rss>"""
UTF16_ENTITY = ('<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY a "b">]><rss/>').encode("utf-16")
# A comment holding "<" and a name character before the DOCTYPE, to end a naive prolog scan early.
COMMENT_FIRST = (b'<?xml version="1.0"?>\n<!-- <: -->\n<!DOCTYPE rss [<!ENTITY big "' + b"x" * 70_000 + b'">]>\n'
                 b'<rss version="2.0"><channel>' + b"<item><title>&big;</title><link>https://x.test/1</link></item>" * 50
                 + b"</channel></rss>")
# UTF-16 with no byte-order mark and no XML declaration: only the HTTP charset says so.
UTF16_BY_HEADER = ('<!DOCTYPE rss [<!ENTITY big "' + "x" * 20_000 + '">]><rss version="2.0"><channel>'
                   + "<item><title>&big;</title><link>https://x.test/1</link></item>" * 20
                   + "</channel></rss>").encode("utf-16-le")


@pytest.mark.parametrize(("body", "headers"), [
    (BILLION_LAUGHS, {}), (BIG_ENTITY, {}), (EXTERNAL, {}), (UTF16_ENTITY, {}), (COMMENT_FIRST, {}),
    (UTF16_BY_HEADER, {"Content-Type": "application/rss+xml; charset=utf-16le"}),
    (('<?xml version="1.0" encoding="utf-7"?>' + '<!DOCTYPE rss [<!ENTITY a "x">]><rss version="2.0"/>'.encode("utf-7")
      .decode("ascii")).encode("ascii"), {}),
], ids=["billion-laughs", "one-big-entity", "external-entity", "utf-16", "comment-first", "utf-16-by-header", "utf-7"])
def test_entity_declarations_are_refused_before_parsing(body, headers, monkeypatch):
    import feedparser

    def must_not_parse(*args, **kwargs):
        raise AssertionError("feedparser saw a document with entity declarations")

    monkeypatch.setattr(feedparser, "parse", must_not_parse)
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_feed(body, headers, "https://feed.test/rss", SOURCE, NOW)


def test_a_plain_public_doctype_is_fine():
    check_entities(b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
                 b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"/>')


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty response"),
        (b"   \n", "empty response"),
        (b"<!doctype html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>", "HTML page"),
        (b'{"items": []}', "not a"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>cut', "not a usable feed"),
    ],
    ids=["empty", "blank", "html", "json", "truncated"],
)
def test_broken_documents_are_one_clear_error(body, message):
    with pytest.raises(ParseError, match=message) as caught:
        parse_feed(body, {}, "https://feed.test/rss", SOURCE, NOW)
    assert "\n" not in str(caught.value)


def test_scripts_handlers_javascript_links_and_pixels_never_survive():
    description = (
        '&lt;p onmouseover="steal()"&gt;Hello &lt;script&gt;alert(1)&lt;/script&gt;'
        '&lt;a href="javascript:alert(2)"&gt;x&lt;/a&gt; &lt;a href="https://ok.test/" onclick="y()"&gt;ok&lt;/a&gt;'
        '&lt;img src="https://track.test/p.gif" width="1" height="1"&gt;&lt;iframe src="https://evil.test"&gt;&lt;/iframe&gt;'
        '&lt;style&gt;body{}&lt;/style&gt;&lt;svg onload="z()"&gt;&lt;/svg&gt;&lt;/p&gt;'
    )
    body = (f'<rss version="2.0"><channel><title>t</title><item><title>&lt;b onclick="x()"&gt;Hi&lt;/b&gt;</title>'
            f"<link>https://x.test/1</link><description>{description}</description></item></channel></rss>").encode()
    item = parse_feed(body, {}, "https://feed.test/rss", SOURCE, NOW).items[0]
    lowered = item.summary_html.lower()
    for bad in ("script", "onmouseover", "onclick", "javascript:", "<img", "track.test", "iframe", "<style", "onload"):
        assert bad not in lowered, bad
    assert 'href="https://ok.test/"' in item.summary_html and 'rel="noopener noreferrer nofollow"' in item.summary_html
    assert "alert" not in item.text and "Hello" in item.text
    assert item.title == "Hi"


def test_plain_text_content_is_escaped_not_trusted():
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>urn:1</id><title>t</title>'
            b'<link href="https://x.test/1"/><summary type="text">5 &lt; 6 and &lt;script&gt;x&lt;/script&gt;</summary>'
            b"</entry></feed>")
    item = parse_feed(body, {}, "https://feed.test/rss", SOURCE, NOW).items[0]
    assert "<script" not in item.summary_html
    assert "&lt;script&gt;" in item.summary_html


def test_entity_attacks_served_over_http_fail_their_sources_and_a_good_feed_lands(server, make_config, caplog,
                                                                                   monkeypatch):
    """The same attacks through the real collection path: fetched from a local server,
    each is one clear error line for its source and stores nothing, feedparser never
    sees it, and a good feed in the same cycle is stored."""
    import feedparser

    real_parse = feedparser.parse

    def guarded_parse(document, *args, **kwargs):
        seen = document.getvalue() if hasattr(document, "getvalue") else bytes(document)
        assert b"<!ENTITY" not in seen, "feedparser saw a document with entity declarations"
        return real_parse(document, *args, **kwargs)

    monkeypatch.setattr(feedparser, "parse", guarded_parse)
    attacks = {"billion-laughs": BILLION_LAUGHS, "one-big-entity": BIG_ENTITY, "external-entity": EXTERNAL}
    feeds = [{"name": name, "url": server.route(f"/{name}.xml", static(body))} for name, body in attacks.items()]
    feeds.append({"name": "good", "url": server.route("/good.xml", static((DATA / "feeds" / "ours_rss20.xml").read_bytes()))})
    caplog.set_level(logging.ERROR, logger="monitor")
    with open_app(make_config, feeds=feeds) as monitor:
        report = monitor.collect()
        by_name = {r.source.name: r for r in report.results}
        for name in attacks:
            assert by_name[name].status == "failed" and by_name[name].http_status == 200
            assert "declares XML entities" in by_name[name].error and "\n" not in by_name[name].error
        assert by_name["good"].status == "ok" and by_name["good"].new == 4
        stored = rows(monitor, "SELECT x.source_id, COUNT(*) AS n FROM item_sources x GROUP BY x.source_id")
        assert stored == [{"source_id": "feed:good", "n": 4}]
        assert monitor.store.count_items() == 4
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert sorted(m.split(":", 1)[0] for m in errors) == sorted(attacks)  # one line per attacked source
    assert all("declares XML entities" in m and "\n" not in m for m in errors)
    assert "/etc/passwd" not in "".join(errors) and "root:" not in "".join(errors)

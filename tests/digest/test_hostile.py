"""Hostile items never reach the digest's HTML or the email's headers unescaped.

Everything collected is untrusted, and so is what is already in the database: these
rows are written straight into it, bypassing the collector's own sanitising, to prove
the digest defends itself on output.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from monitor.app import Monitor
from monitor.config import config_from_dict
from monitor.store import open_store
from tests.digest.builder import DigestDB, feed_url

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=timezone.utc)
LONG_TITLE = "Grooming " + "A" * 10_000
CRLF_TITLE = "Grooming case\r\nBcc: victim@evil.test\r\nX-Injected: yes"
HOSTILE = {
    "script": "<script>alert('title')</script>Grooming gang trial",
    "handler": '<img src=x onerror="alert(1)">Sextortion warning',
    "crlf": CRLF_TITLE,
    "long": LONG_TITLE,
}
EVIL_SUMMARY = ('<p onclick="steal()">Summary <script>alert(2)</script><a href="javascript:alert(3)">click</a>'
                '<img src="https://tracker.test/pixel.gif"><iframe src="https://evil.test/"></iframe>'
                '<a href="https://ok.test/" onmouseover="x()">ok</a></p>')

# every tag our templates use, plus the sanitiser's allow-list for summaries
ALLOWED_TAGS = {"html", "head", "meta", "title", "body", "table", "tr", "td", "th", "h1", "h2", "h3", "p", "span",
                "strong", "a", "br", "div", "ul", "li", "img", "hr", "em", "b", "i", "blockquote", "code",
                "ol", "q", "s", "small", "sub", "sup", "u", "abbr", "cite", "pre", "h4", "h5", "h6"}


class TagAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    db = DigestDB(folder / "monitor.db", NOW)
    feed = db.source("Evil Gazette")
    other = db.source("Copycat Times")
    reddit = db.source("Parenting", kind="reddit_subreddit", url="https://reddit.test/r/Parenting")
    for index, (key, title) in enumerate(HOSTILE.items()):
        db.item(feed, title, hours_ago=index + 1, topics=["grooming"], platforms=["snapchat"],
                laws=["online_safety_act_uk"], summary_html=EVIL_SUMMARY, text="Short text.",
                url="javascript:alert('link')" if key == "script" else "auto", cluster=f"c-{key}",
                stats=[("37%", "<b onmouseover='x()'>37%</b> of cases\r\nBcc: x@evil.test")])
        db.item(other, title + " copy", hours_ago=index + 1.5, topics=["grooming"], cluster=f"c-{key}",
                url="data:text/html,<script>alert(4)</script>" if key == "handler" else "auto")
        db.cluster(f"c-{key}", title, NOW - timedelta(hours=index + 2))
    db.item(reddit, "<svg onload=alert(5)>Thread", hours_ago=2, topics=["sextortion"], comments=5, score=9,
            extra={"subreddit": "</td><script>alert(6)</script>"})
    broken = db.source("Broken Feed")
    db.failing(broken, failures=2, error="HTTP 500 <script>alert(7)</script>\r\nBcc: x@evil.test",
               since=NOW - timedelta(hours=5), last_success=NOW - timedelta(hours=6))
    db.close()
    config = config_from_dict({
        "storage": {"path": str(folder / "monitor.db")},
        "digest": {"archive_dir": str(folder / "archive")},
        "feeds": [{"name": n, "url": feed_url(n)} for n in ("Evil Gazette", "Copycat Times", "Broken Feed")],
    })
    with Monitor(config, open_store(config.storage.path), clock=lambda: NOW) as app:
        yield app, app.build_digest()


def test_html_contains_only_our_tags_and_safe_attributes(hostile_app):
    _app, built = hostile_app
    audit = TagAudit()
    audit.feed(built.html)
    assert built.digest.headline.relevant == 9  # every hostile item made it into the digest, defused
    for tag, attrs in audit.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src"):
                assert value and (value.startswith(("https://", "http://")) or value == "chart.png"), (tag, value)
    assert not [t for t, a in audit.tags if t == "img" and a.get("src") != "chart.png"]  # no tracking pixel


def test_hostile_text_arrives_escaped_and_capped(hostile_app):
    _app, built = hostile_app
    html = built.html
    lowered = html.lower()
    # no markup survives as markup ("onerror=" may remain as visible, escaped text: the tag
    # audit above proves no element carries a handler)
    for bad in ("<script", "<img src=x", "<iframe", "<svg", "<b onmouseover", "javascript:", "data:text",
                "tracker.test"):
        assert bad not in lowered, bad
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;Grooming gang trial" in html  # shown, as text
    assert "A" * 400 not in html and "A" * 400 not in built.text  # the 10 kB title is cut short
    assert all(len(s.title) <= 200 for section in built.digest.topics for s in section.stories)


def test_plain_text_has_no_injected_lines(hostile_app):
    _app, built = hostile_app
    assert "\r" not in built.text
    assert not any(line.lstrip().startswith(("Bcc:", "X-Injected:")) for line in built.text.splitlines())
    assert "Grooming case Bcc: victim@evil.test X-Injected: yes" in built.text  # one line, harmless


def test_headers_are_never_built_from_titles(hostile_app, smtp_server, tmp_path):
    app, _built = hostile_app
    config = config_from_dict({
        "storage": {"path": str(app.config.storage.path)},
        "digest": {"archive_dir": str(tmp_path / "archive")},
        "email": smtp_server.email_config(),
    })
    with Monitor(config, open_store(config.storage.path), clock=lambda: NOW) as sender:
        result = sender.send_digest()
    assert result.status == "sent"
    (received,) = smtp_server.received
    raw_headers = received.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "Bcc" not in raw_headers and "X-Injected" not in raw_headers and "evil.test" not in raw_headers
    message = received.message
    assert message["Subject"] == result.subject and "script" not in message["Subject"].lower()
    assert message["Subject"].startswith("Online child safety briefing, Sat 28 Nov 2026: 9 relevant items")
    assert sorted(received.recipients) == ["campaigns@campaign.test", "press.office@campaign.test"]

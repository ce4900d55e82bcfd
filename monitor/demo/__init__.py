"""The offline demo: our invented corpus served on 127.0.0.1 and run through the real pipeline.

``DemoSite`` puts the corpus on a :class:`~monitor.demo.server.LocalServer` (one feed per
outlet, a news-search endpoint for ``[[queries]]``, and article pages); ``DemoReddit``
serves the corpus' invented Reddit posts through a fake Reddit API on a second local
server, read by the real praw; ``demo_config`` builds a configuration pointing at both;
``run_demo`` collects (and tags) into a fresh database, posts the alerts of one priority
rule to a chat webhook it serves itself (``DemoChat``) and builds the daily digest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from monitor.config import Config, config_from_dict
from monitor.demo.corpus import (
    DemoEntry,
    article_page,
    entries,
    load_corpus,
    reddit_post,
    render_feed,
    render_rss,
)
from monitor.demo.reddit_api import FakeRedditAPI
from monitor.demo.server import LocalServer, Reply, Request, static
from monitor.types import utcnow

DEMO_QUERIES = [
    ("Grooming and Instagram", "grooming Instagram"),
    ("Sextortion", "sextortion"),
    ("Online Safety Act", "Online Safety Act"),
]


DEMO_SUBREDDITS = ["Parenting", "teenagers", "ukpolitics", "technology", "privacy", "legaladvice", "dogs", "Barber"]
DEMO_REDDIT_SEARCHES = ["grooming instagram", "sextortion", "Online Safety Act"]


class DemoReddit:
    """The corpus' invented Reddit posts behind a fake Reddit API (see ``reddit_api``).

    Its dummy credentials exist only for the demo: :meth:`secret` hands them to the
    demo's Monitor in place of the environment, so real credentials are never used.
    """

    CLIENT_ID = "demo-client-id"
    CLIENT_SECRET = "demo-client-secret"

    def __init__(self, server: LocalServer, now: datetime, corpus: dict[str, Any] | None = None):
        self.corpus = corpus or load_corpus()
        self.api = FakeRedditAPI(server, client_id=self.CLIENT_ID, client_secret=self.CLIENT_SECRET)
        for post in self.corpus.get("reddit", []):
            self.api.add_post(reddit_post(post, now), search_terms=post.get("search_terms") or [])

    def secret(self, name: str) -> str | None:
        return {"REDDIT_CLIENT_ID": self.CLIENT_ID, "REDDIT_CLIENT_SECRET": self.CLIENT_SECRET}.get(name)

    def config_section(self) -> dict[str, Any]:
        return {
            "user_agent": "python:monitor-demo:0.1 (by /u/monitor_demo)",
            "oauth_url": self.api.base_url,
            "reddit_url": self.api.base_url,
            "subreddits": [{"name": name} for name in DEMO_SUBREDDITS],
            "searches": [{"query": query} for query in DEMO_REDDIT_SEARCHES],
        }


class DemoSite:
    """The corpus as a news site: ``/<slug>/feed.xml``, ``/search/rss?q=``, article pages."""

    def __init__(self, server: LocalServer, now: datetime, corpus: dict[str, Any] | None = None):
        self.server = server
        self.now = now
        self.corpus = corpus or load_corpus()
        self.feed_urls: dict[str, str] = {}
        self._articles: dict[str, tuple[DemoEntry, str]] = {}
        base = server.base_url
        for feed in self.corpus["feeds"]:
            body = render_feed(feed, now, base)
            self.feed_urls[feed["slug"]] = server.route(f"/{feed['slug']}/feed.xml", static(
                body, "application/atom+xml; charset=utf-8" if feed.get("format") == "atom"
                else "application/rss+xml; charset=utf-8",
                headers={"Cache-Control": "max-age=300"}))
            for entry in entries(feed, now):
                self._articles[urlsplit(entry.path).path] = (entry, feed["name"])
        server.route("/search/rss", self._search)
        server.route_prefix("/", self._article)

    @property
    def search_template(self) -> str:
        return self.server.url("/search/rss?q={terms}")

    def _search(self, request: Request) -> Reply:
        terms = " ".join(parse_qs(request.query).get("q", [""])).lower().split()
        found = [
            entry for entry, _outlet in self._articles.values()
            if terms and all(t in (entry.title + " " + entry.summary_html).lower() for t in terms)
        ]
        found.sort(key=lambda e: e.published, reverse=True)
        body = render_rss("Demo news search: " + " ".join(terms), "/search/", "Search results.", found,
                          self.server.base_url)
        return Reply(200, {"Content-Type": "application/rss+xml; charset=utf-8"}, body)

    def _article(self, request: Request) -> Reply:
        found = self._articles.get(request.path)
        if not found:
            return Reply(404, {"Content-Type": "text/plain"}, b"not found")
        entry, outlet = found
        return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, article_page(entry, outlet))


def demo_config(site: DemoSite, db_path: str | Path, extra: dict[str, Any] | None = None,
                reddit: DemoReddit | None = None) -> Config:
    """A configuration that polls every demo feed and the demo news search, and with
    ``reddit`` the demo subreddits and Reddit searches."""
    data: dict[str, Any] = {
        "storage": {"path": str(db_path)},
        "http": {"user_agent": "monitor-demo/0.1 (offline demo; +http://127.0.0.1/)", "timeout": 20.0},
        "queries_settings": {"url_template": site.search_template},
        "feeds": [{"name": feed["name"], "url": site.feed_urls[feed["slug"]]} for feed in site.corpus["feeds"]],
        "queries": [{"name": name, "terms": terms} for name, terms in DEMO_QUERIES],
    }
    if reddit is not None:
        data["reddit"] = reddit.config_section()
    for key, value in (extra or {}).items():
        data[key] = value
    return config_from_dict(data, "<demo>")


DEMO_WEBHOOK_ENV = "MONITOR_DEMO_WEBHOOK_URL"
# One priority rule that the corpus' sextortion-on-Snapchat stories match, posted to a chat
# webhook the demo serves itself (spikes need weeks of history, which a demo has not).
DEMO_ALERTS: dict[str, Any] = {
    "spikes": False, "channel": "webhook", "webhook_url_env": DEMO_WEBHOOK_ENV,
    "rules": [{"name": "Sextortion on Snapchat", "topics": ["sextortion"], "platforms": ["snapchat"],
               "channel": "webhook"}],
}


class DemoChat:
    """A chat webhook on the demo's server: keeps the text of each alert message posted."""

    PATH = "/demo-chat/webhook"

    def __init__(self, server: LocalServer):
        self.messages: list[str] = []
        self.url = server.route(self.PATH, self._receive)

    def _receive(self, request: Request) -> Reply:
        import json

        try:
            self.messages.append(str(json.loads(request.body)["text"]))
        except (ValueError, KeyError, TypeError):
            return Reply(400, {"Content-Type": "text/plain"}, b"invalid_payload")
        return Reply(200, {"Content-Type": "text/plain"}, b"ok")


@dataclass
class DemoResult:
    db_path: Path
    items: int
    summary: str
    digest_html: Path | None = None
    digest_text: Path | None = None
    alerts: tuple[str, ...] = ()  # the text of each alert message the demo's chat received


DEMO_TIMEZONE = "Europe/London"


def demo_digest_settings(now: datetime, db_path: Path) -> tuple[datetime, dict[str, Any]]:
    """Where the demo's digest day ends (this minute, so the newest stories are in it) and
    the ``[digest]`` settings that make it so; the corpus is dated a minute earlier."""
    from zoneinfo import ZoneInfo

    end = now.replace(second=0, microsecond=0)
    local_end = end.astimezone(ZoneInfo(DEMO_TIMEZONE))
    return end, {"time": f"{local_end:%H:%M}", "timezone": DEMO_TIMEZONE,
                 "archive_dir": str(db_path.parent / "demo-digest")}


def run_demo(db_path: str | Path = "db/demo.db", *, echo: Callable[[str], None] = print,
             now: datetime | None = None) -> DemoResult:
    """Serve the corpus locally, collect it into a fresh ``db_path``, build the digest
    under ``db/demo-digest/`` next to it, and report."""
    from monitor.app import open_monitor
    from monitor.cli.collect import format_result
    from monitor.digest.days import zone

    db_path = Path(db_path)
    for suffix in ("", "-wal", "-shm"):  # a fresh demo database every time (ours, never the real one)
        candidate = Path(f"{db_path}{suffix}")
        if candidate.exists():
            os.remove(candidate)
    end, digest_settings = demo_digest_settings(now or utcnow(), db_path)
    corpus_now = end - timedelta(minutes=1)  # every item inside the digest's day, the newest too
    with LocalServer() as server, LocalServer() as reddit_server:
        site = DemoSite(server, corpus_now)
        reddit = DemoReddit(reddit_server, corpus_now, site.corpus)
        chat = DemoChat(server)
        config = demo_config(site, db_path, extra={"digest": digest_settings, "alerts": DEMO_ALERTS}, reddit=reddit)

        def secret(name: str) -> str | None:  # the demo's own, never the environment's
            return chat.url if name == DEMO_WEBHOOK_ENV else reddit.secret(name)

        echo(f"Serving {len(site.corpus['feeds'])} invented demo feeds on {server.base_url}")
        echo(f"Serving {len(reddit.api.posts)} invented Reddit posts through a fake Reddit API on"
             f" {reddit.api.base_url}")
        with open_monitor(config, secret=secret, clock=lambda: max(utcnow(), end)) as monitor:
            report = monitor.collect(on_result=lambda r: echo(format_result(r)))
            echo(report.summary())
            for note in report.notes:
                echo(note)
            items = monitor.store.count_items()
            digest = monitor.build_digest(end.astimezone(zone(DEMO_TIMEZONE)).date())
    echo(f"{items} items stored in {db_path}")
    head = digest.digest.headline
    echo(f"Digest built: {head.relevant} relevant items in {head.stories} stories"
         + (f" ({head.untagged} items not yet tagged)" if head.untagged else ""))
    return DemoResult(db_path, items, report.summary(), digest.html_path, digest.text_path, tuple(chat.messages))

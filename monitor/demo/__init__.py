"""The offline demo: our invented corpus served on 127.0.0.1 and run through the real pipeline.

``DemoSite`` puts the corpus on a :class:`~monitor.demo.server.LocalServer` (one feed per
outlet, a news-search endpoint for ``[[queries]]``, and article pages); ``DemoReddit``
serves the corpus' invented Reddit posts through a fake Reddit API on a second local
server, read by the real praw; ``DemoParliament``, ``DemoMastodon`` (two instances that
federate some posts) and ``DemoBluesky`` serve its invented Hansard contributions,
Mastodon statuses and Bluesky posts through fake APIs of their own; ``demo_config``
builds a configuration pointing at all of them; ``run_demo`` collects (and tags)
into a fresh database, posts the alerts of one priority rule to a chat webhook it
serves itself (``DemoChat``) and builds the daily digest.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from monitor.errors import MonitorError
from monitor.config import Config, config_from_dict
from monitor.demo.bluesky_api import FakeBlueskyAPI
from monitor.demo.corpus import (
    DemoEntry,
    article_page,
    bluesky_post,
    entries,
    hansard_contribution,
    load_corpus,
    mastodon_status,
    reddit_post,
    render_feed,
    render_rss,
)
from monitor.demo.hansard_api import FakeHansardAPI
from monitor.demo.mastodon_api import FakeMastodonInstance
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


DEMO_HANSARD_SEARCHES = ["grooming", '"Online Safety Act"', "sextortion"]
DEMO_HASHTAGS = ["OnlineSafetyAct", "OnlineSafety"]
DEMO_BLUESKY_SEARCHES = ["online grooming", "Online Safety Act", "sextortion"]


class DemoParliament:
    """The corpus' invented Hansard contributions behind a fake Hansard API, which also
    serves the debate pages the items link to."""

    def __init__(self, server: LocalServer, now: datetime, corpus: dict[str, Any] | None = None):
        self.corpus = corpus or load_corpus()
        self.api = FakeHansardAPI(server)
        for contribution in self.corpus.get("hansard", []):
            self.api.add(hansard_contribution(contribution, now))

    def config_section(self) -> dict[str, Any]:
        return {"api_url": self.api.base_url, "web_url": self.api.base_url,
                "searches": [{"query": query} for query in DEMO_HANSARD_SEARCHES]}


class DemoMastodon:
    """The corpus' invented statuses on two fake instances: each post lives on its home
    instance, and some are federated to the other one too (same ``uri``, another id)."""

    def __init__(self, servers: tuple[LocalServer, LocalServer], now: datetime,
                 corpus: dict[str, Any] | None = None):
        self.corpus = corpus or load_corpus()
        self.instances = {"a": FakeMastodonInstance(servers[0]), "b": FakeMastodonInstance(servers[1])}
        for post in self.corpus.get("mastodon", []):
            home = self.instances[post["home"]]
            local = home.add_status({"created_at": mastodon_status(post, now, home.base_url, "0")["created_at"]})
            status = mastodon_status(post, now, home.base_url, local)
            home.statuses[int(local)] = status
            for other in post.get("also_on", []):
                copy = dict(status, account=dict(status["account"], acct=f"{post['user']}@{home.host}"))
                self.instances[other].add_status(copy)

    @property
    def statuses(self) -> int:
        return len(self.corpus.get("mastodon", []))

    def config_section(self) -> dict[str, Any]:
        return {"hashtags": [{"instance": instance.base_url, "tag": tag}
                             for instance in self.instances.values() for tag in DEMO_HASHTAGS]}


class DemoBluesky:
    """The corpus' invented Bluesky posts behind a fake Bluesky server, with a dummy
    account that exists only for the demo (see :meth:`secret`)."""

    HANDLE = "monitor-demo.demo.test"
    APP_PASSWORD = "demo-demo-demo-demo"

    def __init__(self, server: LocalServer, now: datetime, corpus: dict[str, Any] | None = None):
        self.corpus = corpus or load_corpus()
        self.api = FakeBlueskyAPI(server, handle=self.HANDLE, app_password=self.APP_PASSWORD)
        for post in self.corpus.get("bluesky", []):
            self.api.add_post(bluesky_post(post, now))

    def secret(self, name: str) -> str | None:
        return {"BLUESKY_HANDLE": self.HANDLE, "BLUESKY_APP_PASSWORD": self.APP_PASSWORD}.get(name)

    def config_section(self) -> dict[str, Any]:
        return {"api_url": self.api.base_url, "web_url": self.api.base_url,
                "searches": [{"query": query} for query in DEMO_BLUESKY_SEARCHES]}


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
                reddit: DemoReddit | None = None, parliament: DemoParliament | None = None,
                mastodon: DemoMastodon | None = None, bluesky: DemoBluesky | None = None) -> Config:
    """A configuration that polls every demo feed and the demo news search, and with
    ``reddit`` / ``parliament`` / ``mastodon`` / ``bluesky`` the demo's subreddits and
    Reddit searches, Hansard searches, hashtags and Bluesky searches."""
    data: dict[str, Any] = {
        "storage": {"path": str(db_path)},
        "http": {"user_agent": "monitor-demo/0.1 (offline demo; +http://127.0.0.1/)", "timeout": 20.0},
        "queries_settings": {"url_template": site.search_template},
        "feeds": [{"name": feed["name"], "url": site.feed_urls[feed["slug"]]} for feed in site.corpus["feeds"]],
        "queries": [{"name": name, "terms": terms} for name, terms in DEMO_QUERIES],
    }
    for key, demo in (("reddit", reddit), ("hansard", parliament), ("mastodon", mastodon), ("bluesky", bluesky)):
        if demo is not None:
            data[key] = demo.config_section()
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


DEMO_MARK = "demo_database"  # a settings row: this file is the demo's to recreate


def is_demo_database(path: Path) -> bool:
    """True when ``path`` is a database the demo made (and may therefore delete)."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", [DEMO_MARK]).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None


def run_demo(db_path: str | Path = "db/demo.db", *, echo: Callable[[str], None] = print,
             now: datetime | None = None) -> DemoResult:
    """Serve the corpus locally, collect it into a fresh ``db_path``, build the digest
    under ``db/demo-digest/`` next to it, and report."""
    from monitor.app import open_monitor
    from monitor.cli.collect import format_result
    from monitor.digest.days import zone

    db_path = Path(db_path)
    if db_path.exists() and not is_demo_database(db_path):
        raise MonitorError(f"refusing to replace {db_path}: the demo did not make it (choose another --db)")
    for suffix in ("", "-wal", "-shm"):  # a fresh demo database every time (ours, never the real one)
        candidate = Path(f"{db_path}{suffix}")
        if candidate.exists():
            os.remove(candidate)
    end, digest_settings = demo_digest_settings(now or utcnow(), db_path)
    corpus_now = end - timedelta(minutes=1)  # every item inside the digest's day, the newest too
    with ExitStack() as stack:
        server, reddit_server, hansard_server, bluesky_server, *mastodon_servers = (
            stack.enter_context(LocalServer()) for _ in range(6))
        site = DemoSite(server, corpus_now)
        reddit = DemoReddit(reddit_server, corpus_now, site.corpus)
        parliament = DemoParliament(hansard_server, corpus_now, site.corpus)
        mastodon = DemoMastodon((mastodon_servers[0], mastodon_servers[1]), corpus_now, site.corpus)
        bluesky = DemoBluesky(bluesky_server, corpus_now, site.corpus)
        chat = DemoChat(server)
        config = demo_config(site, db_path, extra={"digest": digest_settings, "alerts": DEMO_ALERTS}, reddit=reddit,
                             parliament=parliament, mastodon=mastodon, bluesky=bluesky)
        echo(f"Serving {len(site.corpus['feeds'])} invented demo feeds on {server.base_url}")
        echo(f"Serving {len(reddit.api.posts)} invented Reddit posts through a fake Reddit API on"
             f" {reddit.api.base_url}")
        echo(f"Serving {len(parliament.api.contributions)} invented Hansard contributions through a fake Hansard"
             f" API on {parliament.api.base_url}")
        echo(f"Serving {mastodon.statuses} invented Mastodon posts on two fake instances"
             f" ({', '.join(i.base_url for i in mastodon.instances.values())})")
        echo(f"Serving {len(bluesky.api.posts)} invented Bluesky posts through a fake Bluesky API on"
             f" {bluesky.api.base_url}")

        def secret(name: str) -> str | None:  # the demo's own, never the environment's
            if name == DEMO_WEBHOOK_ENV:
                return chat.url
            return reddit.secret(name) or bluesky.secret(name)

        # Collected inside the digest's day (as a service polling all day would have), built at its end.
        clock = [corpus_now]
        with open_monitor(config, secret=secret, clock=lambda: clock[0]) as monitor:
            monitor.store.set_setting(DEMO_MARK, "1", clock[0])
            report = monitor.collect(on_result=lambda r: echo(format_result(r)))
            echo(report.summary())
            for note in report.notes:
                echo(note)
            items = monitor.store.count_items()
            clock[0] = max(utcnow(), end)
            digest = monitor.build_digest(end.astimezone(zone(DEMO_TIMEZONE)).date())
    echo(f"{items} items stored in {db_path}")
    head = digest.digest.headline
    echo(f"Digest built: {head.relevant} relevant items in {head.stories} stories"
         + (f" ({head.untagged} items not yet tagged)" if head.untagged else ""))
    return DemoResult(db_path, items, report.summary(), digest.html_path, digest.text_path, tuple(chat.messages))

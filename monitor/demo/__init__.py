"""The offline demo: our invented corpus served on 127.0.0.1 and run through the real pipeline.

``DemoSite`` puts the corpus on a :class:`~monitor.demo.server.LocalServer` (one feed per
outlet, a news-search endpoint for ``[[queries]]``, and article pages); ``demo_config``
builds a configuration pointing at it; ``run_demo`` collects into a fresh database and
builds the daily digest from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from monitor.config import Config, config_from_dict
from monitor.demo.corpus import DemoEntry, article_page, entries, load_corpus, render_feed, render_rss
from monitor.demo.server import LocalServer, Reply, Request, static
from monitor.types import utcnow

DEMO_QUERIES = [
    ("Grooming and Instagram", "grooming Instagram"),
    ("Sextortion", "sextortion"),
    ("Online Safety Act", "Online Safety Act"),
]


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


def demo_config(site: DemoSite, db_path: str | Path, extra: dict[str, Any] | None = None) -> Config:
    """A configuration that polls every demo feed and the demo news search."""
    data: dict[str, Any] = {
        "storage": {"path": str(db_path)},
        "http": {"user_agent": "monitor-demo/0.1 (offline demo; +http://127.0.0.1/)", "timeout": 20.0},
        "queries_settings": {"url_template": site.search_template},
        "feeds": [{"name": feed["name"], "url": site.feed_urls[feed["slug"]]} for feed in site.corpus["feeds"]],
        "queries": [{"name": name, "terms": terms} for name, terms in DEMO_QUERIES],
    }
    for key, value in (extra or {}).items():
        data[key] = value
    return config_from_dict(data, "<demo>")


@dataclass
class DemoResult:
    db_path: Path
    items: int
    summary: str
    digest_html: Path | None = None
    digest_text: Path | None = None


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
    corpus_now = end - timedelta(minutes=1)
    with LocalServer() as server:
        site = DemoSite(server, corpus_now)
        config = demo_config(site, db_path, extra={"digest": digest_settings})
        echo(f"Serving {len(site.corpus['feeds'])} invented demo feeds on {server.base_url}")
        with open_monitor(config, clock=lambda: max(utcnow(), end)) as monitor:
            report = monitor.collect(on_result=lambda r: echo(format_result(r)))
            echo(report.summary())
            items = monitor.store.count_items()
            digest = monitor.build_digest(end.astimezone(zone(DEMO_TIMEZONE)).date())
    echo(f"{items} items stored in {db_path}")
    head = digest.digest.headline
    echo(f"Digest built: {head.relevant} relevant items in {head.stories} stories"
         + (f" ({head.untagged} items not yet tagged)" if head.untagged else ""))
    return DemoResult(db_path, items, report.summary(), digest.html_path, digest.text_path)

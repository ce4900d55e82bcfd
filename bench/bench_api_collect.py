"""Hansard, Mastodon and Bluesky throughput: a poll's fetch + parse + store vs bare GETs + json.loads.

Usage: python bench/bench_api_collect.py [--repeat N] [--items N]

Each fake API on 127.0.0.1 (monitor.demo) serves ``--items`` generated, invented
records in its service's wire format: Hansard contributions (pages of 100), Mastodon
statuses on a hashtag timeline read forward from a cursor (pages of 40), Bluesky posts
from a search read since a cursor (pages of 100, after a login). The pipeline is the
real collector's poll (HttpClient, every page, Link headers / cursors, a login for
Bluesky) + parse + Store.save_batch into a fresh SQLite file; the baseline requests
the same pages with a plain ``requests`` GET each and decodes them with ``json.loads``.
Both run in this process against the same servers; the ratio is what to compare.
Tagging is measured by bench_tagger.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORDS = ("council school parents police platform ofcom minister report children safety messages account app "
         "evidence court teacher charity figures review guidance duty risk codes enforcement year local grooming"
         ).split()


def sentence(rng: random.Random, n: int = 60) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def hansard_results(n: int, now: datetime) -> list[dict]:
    rng = random.Random(1)
    results = []
    for i in range(n):
        text = "\r\n\r\n".join(sentence(rng) for _ in range(4)) + ' <span class="column-number"></span><em>grooming</em>'
        results.append({
            "MemberName": f"Member {i}", "MemberId": 1000 + i, "AttributedTo": f"Member {i} (Seat {i}) (Lab)",
            "ContributionExtId": f"BE4C0000-0000-4000-8000-{i:012d}", "ContributionText": " " + text[:250],
            "ContributionTextFull": text, "DebateSection": f"Generated Debate {i % 7}",
            "DebateSectionExtId": f"DEBA7E00-0000-4000-8000-{i % 7:012d}",
            "SittingDate": (now - timedelta(days=i % 5)).strftime("%Y-%m-%dT00:00:00"), "Section": "Commons Chamber",
            "House": "Commons", "OrderInDebateSection": i, "DebateSectionOrder": i % 7,
        })
    return results


def mastodon_status(i: int, now: datetime, rng: random.Random) -> dict:
    return {
        "created_at": (now - timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "sensitive": False,
        "spoiler_text": "", "visibility": "public", "language": "en",
        "uri": f"https://bench.example/users/u{i % 50}/statuses/{i}", "url": f"https://bench.example/@u{i % 50}/{i}",
        "replies_count": i % 5, "reblogs_count": i % 7, "favourites_count": i % 11,
        "content": f"<p>{sentence(rng, 40)} <a href=\"https://bench.example/tags/OnlineSafety\">#<span>OnlineSafety"
                   "</span></a></p>",
        "account": {"acct": f"u{i % 50}@bench.example", "url": f"https://bench.example/@u{i % 50}", "bot": False},
        "tags": [{"name": "onlinesafety"}], "media_attachments": [], "card": None, "reblog": None,
    }


def bluesky_post(i: int, now: datetime, rng: random.Random) -> dict:
    stamp = (now - timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    text = "online grooming " + sentence(rng, 35)
    return {"uri": f"at://did:plc:benchinventedaaaaaaaaaaaa/app.bsky.feed.post/3bench{i:07d}",
            "author": {"did": "did:plc:benchinventedaaaaaaaaaaaa", "handle": f"bench{i % 50}.bench.test", "labels": []},
            "record": {"$type": "app.bsky.feed.post", "createdAt": stamp, "text": text, "langs": ["en"]},
            "replyCount": 1, "repostCount": 2, "likeCount": 3, "quoteCount": 0, "indexedAt": stamp, "labels": []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--items", type=int, default=400)
    args = parser.parse_args()

    import requests

    from monitor.config import BlueskyConfig, HansardConfig, HttpConfig, MastodonConfig
    from monitor.demo.bluesky_api import FakeBlueskyAPI
    from monitor.demo.hansard_api import FakeHansardAPI
    from monitor.demo.mastodon_api import FakeMastodonInstance
    from monitor.demo.server import LocalServer
    from monitor.sources.bluesky import BlueskyCollector, BlueskyCredentials, BlueskySession
    from monitor.sources.hansard import HansardCollector
    from monitor.sources.http import HttpClient
    from monitor.sources.mastodon import MastodonCollector
    from monitor.store import Run, open_store
    from monitor.types import FetchState, Source, to_iso

    now = datetime.now(timezone.utc).replace(microsecond=0)
    rng = random.Random(7)
    key = b"bench-key-0123456789"
    print(f"{args.items} invented records per service, median of {args.repeat} runs; fetch + parse + store vs"
          " bare GET + json.loads of the same pages")
    with LocalServer() as h_server, LocalServer() as m_server, LocalServer() as b_server:
        hansard = FakeHansardAPI(h_server)
        for result in hansard_results(args.items, now):
            hansard.add(result)
        instance = FakeMastodonInstance(m_server)
        oldest = instance.add_status(mastodon_status(args.items + 1, now, rng))  # the cursor: read forward from it
        for i in range(args.items):
            instance.add_status(mastodon_status(i, now, rng))
        bluesky = FakeBlueskyAPI(b_server)
        for i in range(args.items):
            bluesky.add_post(bluesky_post(i, now, rng))
        since = to_iso(now - timedelta(days=1))

        cases = [
            ("Hansard", Source("hansard:bench", "hansard", "Hansard: grooming", options={"query": "grooming"}),
             HansardCollector(HansardConfig(api_url=hansard.base_url), clock=lambda: now), FetchState("hansard:bench"),
             [f"{hansard.base_url}/search/contributions/Spoken.json?queryParameters.searchTerm=grooming"
              f"&queryParameters.take=100&queryParameters.skip={skip}" for skip in range(0, args.items, 100)], {}),
            ("Mastodon", Source("mastodon:bench", "mastodon", "Mastodon #OnlineSafety",
                                options={"instance": instance.base_url, "tag": "OnlineSafety"}),
             MastodonCollector(MastodonConfig(), hash_key=key), FetchState("mastodon:bench", cursor=oldest), None, {}),
            ("Bluesky", Source("bluesky:bench", "bluesky", "Bluesky: online grooming",
                               options={"query": "online grooming"}),
             BlueskyCollector(BlueskyConfig(api_url=bluesky.base_url), BlueskySession(
                 BlueskyConfig(api_url=bluesky.base_url), BlueskyCredentials(bluesky.handle, bluesky.app_password)),
                 hash_key=key),
             FetchState("bluesky:bench", cursor=since), None, {}),
        ]
        session = requests.Session()
        loop = asyncio.new_event_loop()
        client = loop.run_until_complete(_make(HttpClient, HttpConfig()))
        for name, source, collector, state, urls, headers in cases:
            fetched = loop.run_until_complete(collector.fetch(source, state, client))  # warm up (and log in)
            if urls is None:  # the pages the collector asked for, requested again by the baseline
                calls = (instance if name == "Mastodon" else bluesky).calls()
                urls = [f"{source.options.get('instance', bluesky.base_url)}{c.target}" for c in calls
                        if "timelines" in c.path or "searchPosts" in c.path]
                if name == "Bluesky":
                    headers = {"Authorization": f"Bearer {next(iter(bluesky.access))}"}
            bare, pipeline = [], []
            items = 0
            for _ in range(args.repeat):
                start = time.perf_counter()
                for url in urls:
                    json.loads(session.get(url, headers=headers).content)
                bare.append(time.perf_counter() - start)
                with tempfile.TemporaryDirectory() as tmp:
                    store = open_store(Path(tmp) / "bench.db")
                    store.sync_sources([source], now)
                    start = time.perf_counter()
                    fetched = loop.run_until_complete(collector.fetch(source, state, client))
                    parsed = collector.parse(source, fetched, now)
                    counts = store.save_batch(source, parsed.items, state, Run("bench", source.id, now, now, "ok"), now)
                    pipeline.append(time.perf_counter() - start)
                    items = len(counts.new)
                    store.close()
            bare_rate = items / statistics.median(bare)
            pipe_rate = items / statistics.median(pipeline)
            print(f"{name:<9} {items:5d} items in {len(urls):2d} pages: bare {bare_rate:7.0f}/s"
                  f" ({statistics.median(bare) * 1000:5.0f} ms), ours {pipe_rate:7.0f}/s"
                  f" ({statistics.median(pipeline) * 1000:5.0f} ms), ratio {pipe_rate / bare_rate:5.2f}x")
        loop.run_until_complete(client.aclose())
        loop.close()
    print("Services allow far less: Hansard is polled a few times an hour, Mastodon 300 and Bluesky 3,000 requests"
          " per 5 minutes.")


async def _make(factory, *args):
    return factory(*args)


if __name__ == "__main__":
    main()

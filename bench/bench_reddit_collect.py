"""Reddit pipeline throughput: praw fetch + parse + store vs a bare HTTP GET + json.loads.

Usage: python bench/bench_reddit_collect.py [--repeat N] [--listing FILE]

Serves one 100-post listing (the recorded r/all/new listing in ../shared/fixtures/reddit
when present, else 100 generated posts of our own) from the fake Reddit API on
127.0.0.1. The baseline fetches the same bytes with a plain ``requests`` GET and
decodes them with ``json.loads``; the pipeline is the real thing: RedditCollector.fetch
(praw, on a daemon thread) + parse + Store.save_batch into a fresh SQLite file. Both
run in this process, against the same server; the ratio is what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARED_LISTING = REPO.parent / "shared" / "fixtures" / "reddit" / "listings" / "r_all_new_limit100_2021-01-18.json"


def generated_listing(n: int = 100) -> bytes:
    from monitor.demo.reddit_api import listing

    posts = [{"id": f"b{i:05d}", "name": f"t3_b{i:05d}", "title": f"Generated post {i} about online safety",
              "selftext": "Some words in a paragraph.\n\n" * 8, "author": f"generated_{i}", "subreddit": "all",
              "created_utc": 1_700_000_000.0 - i, "permalink": f"/r/all/comments/b{i:05d}/generated/",
              "url": "", "is_self": True, "score": i, "num_comments": i, "over_18": False} for i in range(n)]
    return json.dumps(listing(posts)).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--listing", type=Path)
    args = parser.parse_args()

    import requests

    from monitor.config import RedditConfig
    from monitor.demo.reddit_api import FakeRedditAPI
    from monitor.demo.server import LocalServer
    from monitor.sources.reddit import RedditCollector, RedditCredentials
    from monitor.store import Run, open_store
    from monitor.types import FetchState, Source

    path = args.listing or (SHARED_LISTING if SHARED_LISTING.exists() else None)
    body = path.read_bytes() if path else generated_listing()
    label = path.name if path else "100 generated posts"
    now = datetime.now(timezone.utc)
    source = Source(id="reddit_subreddit:all", kind="reddit_subreddit", name="r/all", options={"subreddit": "all"})

    bare, pipeline = [], []
    n_posts = n_items = 0
    with LocalServer() as server:
        api = FakeRedditAPI(server)
        api.replay_listing("/r/all/new", body, params={}, times=None)
        settings = RedditConfig(user_agent="python:monitor-bench:0.1 (by /u/monitor_bench)", include_nsfw=True,
                                oauth_url=api.base_url, reddit_url=api.base_url)
        collector = RedditCollector(settings, RedditCredentials(api.client_id, api.client_secret),
                                    hash_key=b"bench-key-0123456789", timeout=30)
        session = requests.Session()
        headers = {"Authorization": f"bearer {api.token}"}
        loop = asyncio.new_event_loop()  # one loop, as in a collection cycle
        loop.run_until_complete(collector.fetch(source, FetchState(source.id), None))  # token, connection: warm up
        session.get(f"{api.base_url}/r/all/new?limit=100&raw_json=1", headers=headers).content
        for _ in range(args.repeat):
            start = time.perf_counter()
            data = json.loads(session.get(f"{api.base_url}/r/all/new?limit=100&raw_json=1", headers=headers).content)
            bare.append(time.perf_counter() - start)
            n_posts = len(data["data"]["children"])

            with tempfile.TemporaryDirectory() as tmp:
                store = open_store(Path(tmp) / "bench.db")
                store.sync_sources([source], now)
                start = time.perf_counter()
                fetched = loop.run_until_complete(collector.fetch(source, FetchState(source.id), None))
                parsed = collector.parse(source, fetched, now)
                counts = store.save_batch(source, parsed.items, FetchState(source.id),
                                          Run("bench", source.id, now, now, "ok"), now)
                pipeline.append(time.perf_counter() - start)
                n_items = len(counts.new)
                store.close()
        collector.close()
        loop.close()

    bare_rate = n_posts / statistics.median(bare)
    pipe_rate = n_items / statistics.median(pipeline)
    print(f"listing: {label} ({len(body):,} bytes, {n_posts} posts), median of {args.repeat} runs")
    print(f"bare GET + json.loads:                 {bare_rate:8.0f} posts/s  ({statistics.median(bare) * 1000:.0f} ms)")
    print(f"praw fetch + parse + store (ours):     {pipe_rate:8.0f} posts/s  ({statistics.median(pipeline) * 1000:.0f} ms)")
    print(f"ratio (ours / bare):                   {pipe_rate / bare_rate:8.2f}x   (Reddit allows ~100 requests/min:"
          " any ratio above 0.01x keeps up)")


if __name__ == "__main__":
    main()

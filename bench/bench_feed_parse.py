"""Feed pipeline throughput: parse + normalise + store vs bare feedparser.parse.

Usage: python bench/bench_feed_parse.py [--repeat N] [--feed FILE]

Uses the 730-item real-world feed in ../shared/fixtures/feeds when present, else a
generated 730-item feed of our own. Both measurements run in this process on the same
bytes; the ratio (pipeline items/s divided by bare items/s) is what to compare.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARED_FEED = REPO.parent / "shared" / "fixtures" / "feeds" / "rss20_giantbomb_podcast_730_items_2019-10-01.xml"


def generated_feed(n: int = 730) -> bytes:
    items = "".join(
        f"<item><title>Episode {i}: a long title about things</title><link>https://pod.test/ep/{i}?utm_source=rss</link>"
        f"<guid isPermaLink='false'>pod-{i}</guid><pubDate>Tue, 01 Oct 2019 12:00:00 PST</pubDate>"
        f"<description>&lt;p&gt;Show notes for episode {i}, with &lt;a href='https://pod.test/'&gt;links&lt;/a&gt; "
        f"and more words to parse.&lt;/p&gt;</description></item>"
        for i in range(n)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Generated</title>{items}</channel></rss>'.encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--feed", type=Path)
    args = parser.parse_args()

    import feedparser

    from monitor.sources.feeds import parse_feed
    from monitor.store import Run, open_store
    from monitor.types import FetchState, Source

    path = args.feed or (SHARED_FEED if SHARED_FEED.exists() else None)
    body = path.read_bytes() if path else generated_feed()
    label = path.name if path else "generated 730-item feed"
    headers = {"content-type": "application/rss+xml"}
    now = datetime.now(timezone.utc)
    source = Source(id="feed:bench", kind="feed", name="bench", url="https://bench.test/feed.xml")

    bare, pipeline = [], []
    n_items = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = feedparser.parse(io.BytesIO(body), response_headers=headers)
        bare.append(time.perf_counter() - start)
        n_entries = len(result.entries)

        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(Path(tmp) / "bench.db")
            store.sync_sources([source], now)
            start = time.perf_counter()
            parsed = parse_feed(body, headers, source.url, source, now)
            counts = store.save_batch(source, parsed.items, FetchState(source.id), Run("bench", source.id, now, now, "ok"), now)
            pipeline.append(time.perf_counter() - start)
            n_items = len(counts.new)
            store.close()

    bare_rate = n_entries / statistics.median(bare)
    pipe_rate = n_items / statistics.median(pipeline)
    print(f"feed: {label} ({len(body):,} bytes, {n_entries} entries), median of {args.repeat} runs")
    print(f"bare feedparser.parse:            {bare_rate:9.0f} items/s  ({statistics.median(bare) * 1000:.0f} ms)")
    print(f"parse + normalise + store (ours): {pipe_rate:9.0f} items/s  ({statistics.median(pipeline) * 1000:.0f} ms)")
    print(f"ratio (ours / bare):              {pipe_rate / bare_rate:9.2f}x   (target >= 0.5x)")


if __name__ == "__main__":
    main()

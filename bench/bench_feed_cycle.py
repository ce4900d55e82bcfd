"""Feed-cycle benchmark: 500 feeds x 10 items behind 200 ms of latency.

Usage: python bench/bench_feed_cycle.py [--feeds 500] [--items 10] [--latency 0.2] [--workers 25] [--no-reader]

A separate process serves the feeds (with ETag / 304) on 127.0.0.1 so the server does
not compete with the client for the GIL. Measured in the same run, for a first cycle
(every item new) and a not-modified cycle (every feed answers 304):
  - our wall time for ``Monitor.collect()`` (process start-up set aside),
  - the latency-bound ideal: feeds x latency / workers,
  - the ``reader`` library doing the same (``update_feeds(workers=N, scheduled=False)``),
    when it is installed (``pip install -e '.[bench]'``),
and the ratios. Targets: not-modified cycle <= 1.3x the ideal and no slower than reader.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORDS = ("council police school parents children online safety platform report court figures minister "
         "charity warning messages account chat game video app regulator law bill review data survey town "
         "county week year people new first said told after before over under more less local national").split()


def make_feed(index: int, items: int, seed: int) -> bytes:
    rng = random.Random(seed * 100_003 + index)
    entries = []
    for j in range(items):
        title = " ".join(rng.choice(WORDS) for _ in range(9)).capitalize()
        text = " ".join(rng.choice(WORDS) for _ in range(60))
        entries.append(
            f"<item><title>{title} {index}-{j}</title><link>http://bench.test/f{index}/a{j}</link>"
            f"<guid isPermaLink='false'>f{index}-{j}</guid><pubDate>Wed, 25 Nov 2026 {j:02d}:00:00 GMT</pubDate>"
            f"<description>&lt;p&gt;{text}.&lt;/p&gt;</description></item>"
        )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench feed {index}</title>'
            f"<link>http://bench.test/</link>{''.join(entries)}</channel></rss>").encode()


def serve(feeds: int, items: int, latency: float, port_queue: "multiprocessing.Queue[int]") -> None:
    from monitor.demo.server import LocalServer, static

    server = LocalServer()
    for i in range(feeds):
        body = make_feed(i, items, seed=1)
        server.route(f"/f{i}.xml", static(body, etag=f'"{hashlib.sha1(body).hexdigest()[:12]}"', delay=latency))
    server.start()
    port_queue.put(int(server.base_url.rsplit(":", 1)[1]))
    while True:
        time.sleep(3600)


def run_ours(urls: list[str], workers: int, tmp: Path) -> tuple[float, float, int, float]:
    from monitor.app import open_monitor
    from monitor.config import config_from_dict

    config = config_from_dict({
        "storage": {"path": str(tmp / "ours.db")},
        "http": {"concurrency": workers, "per_host": workers, "timeout": 60.0},
        "feeds": [{"name": f"feed {i}", "url": url} for i, url in enumerate(urls)],
    })
    with open_monitor(config) as monitor:
        start, cpu = time.perf_counter(), time.process_time()
        first = monitor.collect()
        first_time = time.perf_counter() - start
        first_cpu = time.process_time() - cpu
        start = time.perf_counter()
        second = monitor.collect(force=True)
        second_time = time.perf_counter() - start
        assert first.count("ok") == len(urls), first.summary()
        assert second.count("not_modified") == len(urls), second.summary()
        return first_time, second_time, first.new, first_cpu


def run_reader(urls: list[str], workers: int, tmp: Path) -> tuple[float, float, int] | None:
    try:
        from reader import make_reader
    except ImportError:
        return None
    import logging

    logging.getLogger("reader").setLevel(logging.CRITICAL)
    logging.getLogger("urllib3").setLevel(logging.CRITICAL)
    reader = make_reader(str(tmp / "reader.sqlite"))
    for url in urls:
        reader.add_feed(url)
    start = time.perf_counter()
    reader.update_feeds(workers=workers, scheduled=False)
    first_time = time.perf_counter() - start
    entries = reader.get_entry_counts().total
    start = time.perf_counter()
    reader.update_feeds(workers=workers, scheduled=False)
    second_time = time.perf_counter() - start
    reader.close()
    return first_time, second_time, entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=25)
    parser.add_argument("--no-reader", action="store_true")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    port_queue: multiprocessing.Queue[int] = ctx.Queue()
    process = ctx.Process(target=serve, args=(args.feeds, args.items, args.latency, port_queue), daemon=True)
    process.start()
    try:
        port = port_queue.get(timeout=120)
        urls = [f"http://127.0.0.1:{port}/f{i}.xml" for i in range(args.feeds)]
        ideal = args.feeds * args.latency / args.workers
        with tempfile.TemporaryDirectory() as tmp:
            ours = run_ours(urls, args.workers, Path(tmp))
            theirs = None if args.no_reader else run_reader(urls, args.workers, Path(tmp))
    finally:
        process.terminate()

    print(f"{args.feeds} feeds x {args.items} items, {args.latency * 1000:.0f} ms latency, {args.workers} workers; "
          f"latency-bound ideal {ideal:.2f} s")
    print(f"{'':22}{'ours':>10}{'x ideal':>9}", end="")
    print(f"{'reader':>10}{'x ideal':>9}{'ours/reader':>13}" if theirs else "")
    for label, index in (("first cycle (all new)", 0), ("not-modified cycle", 1)):
        line = f"{label:<22}{ours[index]:>9.2f}s{ours[index] / ideal:>8.2f}x"
        if theirs:
            line += f"{theirs[index]:>9.2f}s{theirs[index] / ideal:>8.2f}x{ours[index] / theirs[index]:>12.2f}x"
        print(line)
    print(f"items stored: ours {ours[2]}" + (f", reader {theirs[2]}" if theirs else ""))
    print(f"first cycle CPU time (ours, both threads): {ours[3]:.2f} s of {ours[0]:.2f} s wall "
          f"({ours[3] / ours[0]:.0%}: close to 100% means bounded by CPU, not by waiting)")
    if not theirs and not args.no_reader:
        print("(reader not installed: pip install -e '.[bench]' to compare)")


if __name__ == "__main__":
    main()

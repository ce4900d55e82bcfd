"""Daily digest on a large database: build time vs a full scan of the items table.

Usage: python bench/bench_digest.py [--items N] [--repeat N] [--rebuild]

Generates (once; cached in bench/results/, which git ignores) a database of N tagged
items (default 1,000,000) spread over a year from 55 sources, with the shape of the
real thing: ~20% relevant, topics, platforms, laws, quoted figures, syndication
clusters, Reddit engagement, items carried by two sources, failing sources. Then
times a whole digest build for the last day (queries, pure build, HTML and text,
chart, archive files and the digests row) and, as a baseline measured in the same
run, one full scan of the items table. Target: the digest in under one second.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results"
GENERATOR_VERSION = 2
NOW = datetime(2026, 11, 28, 7, 30, tzinfo=timezone.utc)
DAYS = 365
TOPICS = ["grooming", "grooming_gangs", "sextortion", "csam", "child_online_safety", "legislation"]
PLATFORMS = ["instagram", "snapchat", "whatsapp", "tiktok", "facebook", "messenger", "x", "discord", "roblox",
             "youtube", "telegram", "kik"]
LAWS = ["online_safety_act_uk", "kosa_us", "coppa_us", "eu_csam_regulation", "dsa_eu", "other"]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(path: Path, n_items: int, seed: int = 7) -> None:
    """Bulk-insert ``n_items`` items and their tags in one transaction (executemany)."""
    from monitor.store import open_store

    rng = random.Random(seed)
    store = open_store(path)
    db = store.db.conn
    db.execute("PRAGMA cache_size = -400000")  # 400 MB while loading: index pages stay in memory
    created = iso(NOW - timedelta(days=DAYS + 30))
    sources = ([(f"feed:outlet-{i}", "feed", f"Outlet {i}", "news") for i in range(40)]
               + [(f"query:search-{i}", "query", f"Search {i}", "news") for i in range(10)]
               + [(f"reddit_subreddit:sub-{i}", "reddit_subreddit", f"Sub {i}", "reddit") for i in range(5)])
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO sources (id, kind, name, url, tags, active, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, '[]', 1, ?, ?)",
        [(sid, kind, name, f"https://{sid.replace(':', '-')}.test/feed", created, created)
         for sid, kind, name, _media in sources])
    fetch_rows = []
    for index, (sid, _kind, _name, _media) in enumerate(sources):
        failing = index % 11 == 3
        fetch_rows.append((sid, 3 if failing else 0, "HTTP 503" if failing else None,
                           iso(NOW - timedelta(hours=2)) if failing else None,
                           iso(NOW - timedelta(hours=5 if failing else 0)), iso(NOW + timedelta(hours=1)),
                           iso(NOW - timedelta(days=3)) if index == 7 else None))
    db.executemany(
        "INSERT INTO fetch_state (source_id, failures, last_error, last_error_at, last_success_at, next_due_at,"
        " gone_at) VALUES (?, ?, ?, ?, ?, ?, ?)", fetch_rows)
    db.executemany(
        "INSERT INTO runs (cycle_id, source_id, started_at, ended_at, status, error) VALUES (?, ?, ?, ?, ?, ?)",
        [("bench", sid, iso(NOW - timedelta(hours=h)), iso(NOW - timedelta(hours=h)), "failed", "HTTP 503")
         for sid, *_ in sources[3::11] for h in (1, 2, 3)])

    # published in time order, as the collector stores them (and so indexes grow at their end)
    offsets = sorted((rng.randrange(DAYS * 86400) for _ in range(n_items)), reverse=True)
    batch_items, batch_links, batch_tags, batch_stats, batch_clusters = [], [], [], [], []
    cluster_id = None
    cluster_left = 0
    cluster_base = NOW
    for number in range(n_items):
        sid, kind, _name, media = sources[rng.randrange(40)] if rng.random() < 0.9 else sources[rng.randrange(40, 55)]
        if cluster_left > 0:
            published = cluster_base + timedelta(minutes=rng.randrange(0, 240))
            cluster_left -= 1
            relevant = 1
            this_cluster = cluster_id
        else:
            published = NOW - timedelta(seconds=offsets[number])
            roll = rng.random()
            relevant = 1 if roll < 0.2 else (0 if roll < 0.97 else None)
            this_cluster = None
            if relevant == 1 and media == "news" and rng.random() < 0.15:
                cluster_id = f"c{number}"
                cluster_left = rng.randrange(1, 6)
                cluster_base = published
                this_cluster = cluster_id
                batch_clusters.append((cluster_id, f"Story {number}", cluster_left + 1, cluster_left + 1,
                                       iso(published), iso(published), iso(NOW)))
        item_id = f"i{number:08d}"
        stamp = iso(published)
        batch_items.append((
            item_id, sid, media, f"https://{sid.split(':')[1]}.test/story/{number}", f"guid-{number}",
            f"Story number {number} about online safety and something else entirely",
            f"Plain text of story {number}. " * 8, f"<p>Summary of story {number}.</p>", None, stamp, stamp,
            stamp, f"h{number}", "{}", relevant, 0.9 if relevant else 0.1, "[]", "bench" if relevant is not None
            else None, stamp if relevant is not None else None, this_cluster,
            rng.randrange(0, 5000) if media == "reddit" else None, rng.randrange(0, 800) if media == "reddit" else None,
            None))
        batch_links.append((item_id, sid, f"guid-{number}", stamp, stamp))
        if rng.random() < 0.1:
            other = sources[rng.randrange(40, 50)][0]
            if other != sid:
                batch_links.append((item_id, other, None, stamp, stamp))
        if relevant == 1:
            topics = rng.sample(TOPICS, rng.choice([1, 1, 2, 2, 3]))
            for topic in topics:
                batch_tags.append((item_id, "topic", topic, "bench"))
            if rng.random() < 0.5:
                for platform in rng.sample(PLATFORMS, rng.choice([1, 1, 2, 3])):
                    batch_tags.append((item_id, "platform", platform, "bench"))
            if rng.random() < 0.15:
                batch_tags.append((item_id, "legislation", rng.choice(LAWS), "bench"))
            if rng.random() < 0.1:
                batch_stats.append((item_id, f"{rng.randrange(1, 99)}%", None, "%",
                                    f"A sentence quoting a figure in story {number}.", "bench"))
        if len(batch_items) >= 50_000:
            _flush(db, batch_items, batch_links, batch_tags, batch_stats, batch_clusters)
            print(f"  {number + 1:,} items", end="\r", flush=True)
    _flush(db, batch_items, batch_links, batch_tags, batch_stats, batch_clusters)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    store.close()
    print()


def _flush(db, items, links, tags, stats, clusters) -> None:  # type: ignore[no-untyped-def]
    db.executemany(
        "INSERT INTO items (id, source_id, media, url, guid, title, text, summary_html, author, published_at,"
        " collected_at, updated_at, content_hash, extra, relevant, score, why, tagger_version, tagged_at,"
        " cluster_id, popularity, comments, deleted_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", items)
    db.executemany("INSERT INTO item_sources (item_id, source_id, guid, first_seen_at, last_seen_at)"
                   " VALUES (?, ?, ?, ?, ?)", links)
    db.executemany("INSERT INTO item_tags (item_id, kind, value, tagger_version) VALUES (?, ?, ?, ?)", tags)
    db.executemany("INSERT INTO item_statistics (item_id, value, number, unit, sentence, tagger_version)"
                   " VALUES (?, ?, ?, ?, ?, ?)", stats)
    db.executemany("INSERT OR REPLACE INTO clusters (id, title, size, outlets, first_published_at,"
                   " last_published_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", clusters)
    for batch in (items, links, tags, stats, clusters):
        batch.clear()


def database(n_items: int, rebuild: bool) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"digest-{n_items}-v{GENERATOR_VERSION}.db"
    if rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(f"generating {n_items:,} items into {path} (once; cached) ...")
        started = time.perf_counter()
        generate(path, n_items)
        print(f"generated in {time.perf_counter() - started:.0f} s")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="generate the database again")
    args = parser.parse_args()

    from monitor.config import config_from_dict
    from monitor.digest.build import build_digest
    from monitor.digest.chart import render_chart
    from monitor.digest.delivery import make_digest, read_data
    from monitor.digest.render import render_html, render_text
    from monitor.store import open_store

    path = database(args.items, args.rebuild)
    with tempfile.TemporaryDirectory() as tmp:
        config = config_from_dict({"storage": {"path": str(path)}, "digest": {"archive_dir": tmp}})
        store = open_store(path)
        day = NOW.date()

        started = time.perf_counter()
        first = make_digest(store, config, day, NOW)  # cold: imports Jinja2 and matplotlib
        cold = time.perf_counter() - started

        totals, phases = [], {"queries": [], "build": [], "render": [], "chart": []}
        for _ in range(args.repeat):
            started = time.perf_counter()
            make_digest(store, config, day, NOW)
            totals.append(time.perf_counter() - started)
            t0 = time.perf_counter()
            window, data = read_data(store, config, day)
            t1 = time.perf_counter()
            digest = build_digest(data, window, config.digest, NOW)
            t2 = time.perf_counter()
            render_html(digest, "chart.png"), render_text(digest)
            t3 = time.perf_counter()
            render_chart(digest.chart)
            t4 = time.perf_counter()
            for name, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                phases[name].append(value)

        scans = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            store.db.execute("SELECT COUNT(*), SUM(LENGTH(title)), MAX(published_at) FROM items").fetchone()
            scans.append(time.perf_counter() - started)
        count = store.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        relevant = store.db.execute("SELECT COUNT(*) FROM items WHERE relevant = 1").fetchone()[0]
        store.close()

    head = first.digest.headline
    digest_time, scan_time = statistics.median(totals), statistics.median(scans)
    print(f"database: {count:,} items ({relevant:,} relevant) over {DAYS} days, {path.stat().st_size / 1e6:.0f} MB")
    print(f"digest for {day}: {head.relevant} relevant items, {head.stories} top stories, "
          f"{len(first.digest.health.problems)} source problems, chart {'yes' if first.chart_png else 'no'}")
    print(f"full scan of items (baseline):   {scan_time * 1000:8.0f} ms")
    print(f"digest build, first (cold):      {cold * 1000:8.0f} ms  (includes importing Jinja2 and matplotlib)")
    print(f"digest build, median of {args.repeat}:     {digest_time * 1000:8.0f} ms  "
          + "  ".join(f"{name} {statistics.median(values) * 1000:.0f} ms" for name, values in phases.items()))
    print(f"ratio (digest / full scan):      {digest_time / scan_time:8.2f}x")
    print(f"target: digest under 1000 ms:    {'met' if digest_time < 1.0 else 'NOT MET'}")
    load = os.getloadavg()[0]
    print(f"(machine: {os.cpu_count()} CPUs, load average {load:.1f} during the run)")


if __name__ == "__main__":
    main()

"""Purging Reddit posts deleted upstream in a large database: with the parent index vs without.

Usage: python bench/bench_purge.py [--items N] [--purge K]

Builds a database of N invented Reddit items (posts, and comments pointing at them) through
the real schema, copies it, drops the ``items_reddit_parent`` index (migration 0013) from
the copy (the plan before it: every Reddit item read for each purged post), and times
``Store.apply_deletions`` of the same K posts in both, each in its one write transaction
(the write lock is held that long, so collection waits). Prints both and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build(path: Path, items: int, now: datetime) -> list[str]:
    """``items`` invented Reddit items, one post in ten with nine comments; returns the post ids."""
    from monitor.store import open_store
    from monitor.store.db import write

    store = open_store(path)
    db = store.db
    posts: list[str] = []
    rows = []
    with write(db):
        db.execute("INSERT INTO sources (id, kind, name, created_at, updated_at)"
                   " VALUES ('reddit_subreddit:bench', 'reddit_subreddit', 'r/bench', 'x', 'x')")
        for n in range(items):
            published = (now - timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
            if n % 10 == 0:
                item_id = f"t3_b{n:07d}"
                posts.append(item_id)
                extra = {"subreddit": "bench", "nsfw": False, "domain": "self.bench", "upvote_ratio": 0.9}
            else:
                item_id = f"t1_b{n:07d}"
                extra = {"kind": "comment", "parent": posts[-1], "parent_title": f"Invented title {n // 10}",
                         "subreddit": "bench"}
            rows.append((item_id, "reddit_subreddit:bench", "reddit", f"Invented item {n}", "invented words " * 30,
                         published, published, published, "h", json.dumps(extra)))
        db.conn.executemany("INSERT INTO items (id, source_id, media, title, text, published_at, collected_at,"
                            " updated_at, content_hash, extra) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    db.execute("ANALYZE")
    store.close()
    return posts


def timed_purge(path: Path, ids: list[str], now: datetime) -> float:
    from monitor.store import open_store

    store = open_store(path)
    start = time.perf_counter()
    purged, _cleared = store.apply_deletions(ids, [], now)
    elapsed = time.perf_counter() - start
    assert purged == len(ids), purged
    store.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--purge", type=int, default=100)
    args = parser.parse_args()

    import sqlite3

    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        indexed, scanned = Path(tmp) / "indexed.db", Path(tmp) / "scanned.db"
        posts = build(indexed, args.items, now)
        conn = sqlite3.connect(indexed)
        conn.execute("VACUUM INTO ?", [str(scanned)])
        conn.close()
        conn = sqlite3.connect(scanned)
        conn.execute("DROP INDEX items_reddit_parent")
        conn.close()
        ids = posts[: args.purge]
        baseline = timed_purge(scanned, ids, now)
        ours = timed_purge(indexed, ids, now)
    print(f"{args.items:,} Reddit items, {len(posts):,} posts; purging {len(ids)} posts in one transaction")
    print(f"without the parent index (baseline): {baseline:8.3f} s")
    print(f"with items_reddit_parent (ours):     {ours:8.3f} s")
    print(f"ratio (baseline / ours):             {baseline / ours:8.1f}x faster")


if __name__ == "__main__":
    main()

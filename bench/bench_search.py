"""Full-text search, the views' daily aggregations and the saved queries on a big database.

Usage: python bench/bench_search.py [--items N] [--repeat R] [--json FILE] [--db PATH]

Generates (once, then cached in bench/results/) a database of N realistic-ish items
(default 1,000,000; see bench/generate_items.py), or uses --db PATH (migrated in
place), and measures, on a read-only connection opened like `monitor search` opens it:

1. `monitor search` queries, the median of R runs each, twice: the library call the
   command makes (ranked ids, then details and a snippet for the top 20), and the
   command itself, `monitor --config CFG search QUERY ...` run in-process by click's
   CliRunner against a config naming the benchmark database (parsing the arguments,
   loading the config, opening the database, the query, printing the table):
   everything the user waits for except Python's start-up and imports, which are
   measured once, apart, and printed. Both against the same words found with LIKE
   over title and text (what one would do without the index), measured in the same
   run. Bar: the median over the queries of the command < 100 ms.
2. Each view's daily aggregation over the 28 days up to the newest item (the digest's
   and the charts' window), against a bare count of items per day over the same
   window. Bar: each < 500 ms. The same over 365 days and all time, for information.
3. Each saved query in db/queries, for information.
4. Insert throughput with the FTS triggers against the same inserts without them.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

SEARCH_BAR_MS = 100.0
VIEW_BAR_MS = 500.0

# (label, FTS5 query, filter keyword arguments): the questions and their kin.
SEARCHES: list[tuple[str, str, dict]] = [
    ("figure, quoted", '"37%"', {}),
    ("figure this month", '"37%"', {"since": -31}),
    ("two words AND", "snapchat AND sextortion", {}),
    ("AND, since the Act", "snapchat AND sextortion", {"since": "2023-10-26"}),
    ("reddit, prefix", "roblox AND groom*", {"media": ("reddit",)}),
    ("phrase", '"online safety act"', {}),
    ("phrase, relevant only", '"age verification"', {"relevant_only": True}),
    ("NEAR", "NEAR(ofcom codes, 5)", {}),
    ("NOT", "roblox NOT minecraft", {}),
    ("OR of rare words", "rochdale OR rotherham", {"since": -90}),
    ("column filter", "title:sextortion", {}),
    ("topic + platform filter", "blackmail", {"topics": ("sextortion",), "platforms": ("instagram",)}),
    ("one common word", "grooming", {}),
    ("one common word, newest", "grooming", {"order": "newest"}),
]
LIKE_BASELINES = [
    ("snapchat AND sextortion", ["snapchat", "sextortion"]),
    ('"online safety act"', ["online safety act"]),
]

# (view, aggregation SQL with :since); the baseline is the bare items count per day.
VIEW_AGGREGATIONS: list[tuple[str, str]] = [
    ("relevant_items", "SELECT day, count(*) FROM relevant_items WHERE day >= :since GROUP BY day"),
    ("tagged_items", "SELECT day, count(*), sum(platforms != '[]') FROM tagged_items WHERE day >= :since GROUP BY day"),
    ("platform_daily", "SELECT day, platform, items, grooming_items FROM platform_daily WHERE day >= :since"),
    ("topic_daily", "SELECT day, topic, items FROM topic_daily WHERE day >= :since"),
    ("legislation_mentions",
     "SELECT day, law, count(*) FROM legislation_mentions WHERE day >= :since GROUP BY day, law"),
    ("quoted_statistics",
     "SELECT day, count(*), count(DISTINCT figure) FROM quoted_statistics WHERE day >= :since GROUP BY day"),
    ("cluster_items", "SELECT day, count(DISTINCT cluster_id) FROM cluster_items WHERE day >= :since GROUP BY day"),
    ("source_health",  # not per day: the whole view (:since is unused)
     "SELECT health, count(*), sum(items) FROM source_health WHERE :since IS NOT NULL GROUP BY health"),
]
BASELINE_DAILY = ("SELECT substr(published_at, 1, 10) AS day, count(*) FROM items WHERE published_at >= :since"
                  " GROUP BY day")


def timed(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median milliseconds over ``repeat`` runs after one warm-up run, and the last result."""
    result = run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def command_args(query: str, since: str | None, order: str, options: dict) -> list[str]:
    """The `monitor search` arguments that ask what ``search(db, query, ItemFilter(...))`` does."""
    args = ["search", query, "--limit", "20", "--sort", order]
    if since:
        args += ["--since", since]
    for option, key in (("--topic", "topics"), ("--platform", "platforms"), ("--media", "media")):
        for value in options.get(key, ()):
            args += [option, value]
    if options.get("relevant_only"):
        args.append("--relevant-only")
    return args


def startup_ms(config: Path, args: list[str]) -> dict:
    """Measured once each, apart from the medians: a bare interpreter start-up, and one whole
    `monitor search` run as a new process (start-up, imports, config, the query, output)."""
    def run(command: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return (time.perf_counter() - start) * 1000

    bare = run([sys.executable, "-c", "pass"])
    whole = run([sys.executable, "-m", "monitor", "--config", str(config), *args])
    return {"python_startup_ms": round(bare, 1), "whole_process_ms": round(whole, 1)}


def bench_searches(db, path: Path, newest_day: date, repeat: int) -> dict:
    from click.testing import CliRunner

    from monitor.cli import main
    from monitor.store.filters import ItemFilter, lower_bound
    from monitor.store.search import count_matches, search

    folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
    config = folder / "config.toml"
    config.write_text(f"[storage]\npath = {json.dumps(str(path))}\n", encoding="utf-8")
    runner = CliRunner()

    def command(args: list[str]) -> object:
        outcome = runner.invoke(main, ["--config", str(config), *args], catch_exceptions=False)
        if outcome.exit_code != 0:
            raise SystemExit(f"monitor {' '.join(args)} failed: {outcome.output}")
        return outcome

    print(f"\n1. monitor search: top 20 with snippets, median of {repeat} runs (ms): the library call"
          " search(), and the command run in-process")
    print(f"   {'query':<44} {'matches':>8} {'search()':>9} {'command':>9}")
    results = []
    for label, query, options in SEARCHES:
        options = dict(options)
        order = options.pop("order", "rank")
        since = options.pop("since", None)
        if isinstance(since, int):
            since = (newest_day + timedelta(days=since)).isoformat()
        flt = ItemFilter(since=lower_bound(since) if since else None, **options)
        ms, result = timed(lambda: search(db, query, flt, limit=20, order=order), repeat)
        args = command_args(query, since, order, options)
        command_ms, _ = timed(lambda: command(args), repeat)
        matches = count_matches(db, query, flt)
        window = result.ranked_within  # type: ignore[attr-defined]
        results.append({"label": label, "query": query, "ms": round(ms, 1), "command_ms": round(command_ms, 1),
                        "matches": matches, "returned": len(result.hits),  # type: ignore[attr-defined]
                        "ranked_within": window})
        shown = f"{query}  [{label}]"
        print(f"   {shown:<44} {matches:>8} {ms:>9.1f} {command_ms:>9.1f}"
              + ("  (newest 10,000 ordered)" if window else ""))
    median = statistics.median(r["ms"] for r in results)
    command_median = statistics.median(r["command_ms"] for r in results)
    startup = startup_ms(config, command_args(SEARCHES[0][1], None, "rank", {}))
    baselines = []
    for query, words in LIKE_BASELINES:
        condition = " AND ".join("(title LIKE ? OR text LIKE ?)" for _ in words)
        params = [p for w in words for p in (f"%{w}%", f"%{w}%")]
        sql = f"SELECT rowid FROM items WHERE {condition} AND deleted_at IS NULL LIMIT 1000000"
        like_ms, _ = timed(lambda: db.execute(sql, params).fetchall(), 1)
        fts_ms = next(r["ms"] for r in results if r["query"] == query)
        baselines.append({"query": query, "like_ms": round(like_ms, 1), "fts_ms": fts_ms,
                          "speedup": round(like_ms / fts_ms, 1)})
        print(f"   baseline: LIKE for {query}: {like_ms:.0f} ms, FTS {fts_ms:.1f} ms -> {like_ms / fts_ms:.0f}x faster")
    verdict = "PASS" if command_median < SEARCH_BAR_MS else "FAIL"
    print(f"   median over {len(results)} queries: search() {median:.1f} ms, the command {command_median:.1f} ms"
          f" (bar < {SEARCH_BAR_MS:.0f} ms, the command): {verdict}")
    print(f"   not in those medians, measured once: Python start-up {startup['python_startup_ms']:.0f} ms;"
          f" a whole `monitor search '{SEARCHES[0][1]}'` as a new process (start-up, imports, query)"
          f" {startup['whole_process_ms']:.0f} ms")
    return {"queries": results, "median_ms": round(median, 1), "command_median_ms": round(command_median, 1),
            **startup, "like_baselines": baselines, "pass": verdict == "PASS"}


def bench_views(db, newest_day: date, repeat: int) -> dict:
    print(f"\n2. views: daily aggregation, median of {repeat} runs (ms)")
    windows = {"28 days": 27, "365 days": 364, "all time": None}
    print(f"   {'view':<22}" + "".join(f"{w:>12}" for w in windows) + "   rows (28 d)")
    out = []
    base: dict[str, float] = {}
    for name, days in windows.items():
        since = "0000" if days is None else (newest_day - timedelta(days=days)).isoformat()
        base[name], _ = timed(lambda: db.execute(BASELINE_DAILY, {"since": since}).fetchall(), repeat)
    for view, sql in VIEW_AGGREGATIONS:
        row: dict = {"view": view}
        for name, days in windows.items():
            since = "0000" if days is None else (newest_day - timedelta(days=days)).isoformat()
            ms, rows = timed(lambda: db.execute(sql, {"since": since}).fetchall(), repeat)
            row[name] = round(ms, 1)
            if name == "28 days":
                row["rows"] = len(rows)  # type: ignore[arg-type]
        row["pass"] = row["28 days"] < VIEW_BAR_MS
        out.append(row)
        print(f"   {view:<22}" + "".join(f"{row[w]:>12.1f}" for w in windows) + f"   {row['rows']}")
    print(f"   {'baseline: items/day':<22}" + "".join(f"{base[w]:>12.1f}" for w in windows))
    worst = max(out, key=lambda r: r["28 days"])
    verdict = "PASS" if all(r["pass"] for r in out) else "FAIL"
    print(f"   slowest 28-day aggregation: {worst['view']} {worst['28 days']:.1f} ms "
          f"({worst['28 days'] / base['28 days']:.1f}x the bare count) (bar < {VIEW_BAR_MS:.0f} ms each): {verdict}")
    return {"views": out, "baseline_ms": {k: round(v, 1) for k, v in base.items()}, "pass": verdict == "PASS"}


def bench_saved_queries(db, repeat: int) -> list[dict]:
    from monitor.queries import load_saved_queries

    print(f"\n3. saved queries (db/queries), median of {repeat} runs")
    out = []
    for query in load_saved_queries(REPO / "db" / "queries"):
        params = {name: {"figure": "37%", "q": '"online safety act"'}.get(name, "") for name in query.parameters}
        ms, rows = timed(lambda: db.execute(query.sql, params).fetchall(), repeat)
        out.append({"query": query.name, "ms": round(ms, 1), "rows": len(rows)})  # type: ignore[arg-type]
        print(f"   {query.name:<34} {ms:>8.1f} ms {len(rows):>6} rows")  # type: ignore[arg-type]
    return out


def bench_inserts(n: int = 20_000) -> dict:
    """Items per second through the store's own insert, with and without the FTS triggers."""
    from datetime import datetime, timezone

    from monitor.store import Run, open_store
    from monitor.types import FetchState, Item, Source
    from generate_items import TextMaker
    import random

    rng = random.Random(3)
    maker = TextMaker(rng, chunks=5000)
    items = [Item(id=f"bench-{i}", source_id="feed:bench", url=f"https://bench.example/{i}",
                  title=maker.title(i % 3 == 0, []), text=maker.text(i % 3 == 0, [], None, 6))
             for i in range(n)]
    source = Source(id="feed:bench", kind="feed", name="bench", url="https://bench.example/feed")
    now = datetime.now(timezone.utc)
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        # alternate the two, twice each, and keep each one's best: the first run pays for imports
        for attempt, label in enumerate(["without FTS triggers", "with FTS triggers"] * 2):
            store = open_store(Path(folder) / f"{attempt}.db")
            if label.startswith("without"):
                for (name,) in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                                " AND name LIKE 'items_fts%'").fetchall():
                    store.db.execute(f"DROP TRIGGER {name}")
            store.sync_sources([source], now)
            start = time.perf_counter()
            for offset in range(0, n, 500):  # collection-sized batches
                run = Run(cycle_id="bench", source_id=source.id, started_at=now, ended_at=now, status="ok")
                store.save_batch(source, items[offset:offset + 500], FetchState(source_id=source.id), run, now)
            rates[label] = max(rates.get(label, 0.0), n / (time.perf_counter() - start))
            store.db.conn.close()
    ratio = rates["with FTS triggers"] / rates["without FTS triggers"]
    print(f"\n4. inserts through Store.save_batch, {n:,} items in batches of 500")
    for label, rate in rates.items():
        print(f"   {label:<22} {rate:>10,.0f} items/s")
    print(f"   ratio with / without: {ratio:.2f}")
    return {"items_per_s": {k: round(v) for k, v in rates.items()}, "ratio": round(ratio, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write the figures here (default bench/results/search-N.json).")
    parser.add_argument("--db", type=Path, help="Measure this database (migrated in place) instead of the cached"
                                                " generated one; --items is then ignored.")
    args = parser.parse_args()

    from generate_items import cached_database

    from monitor.store import open_store
    from monitor.store.reader import open_reader

    path = args.db or cached_database(args.items)
    writer = open_store(path)  # applies new migrations and, like collection, refreshes planner statistics
    writer.refresh_statistics()
    writer.db.conn.close()
    db = open_reader(path)
    newest = db.execute("SELECT max(published_at) FROM items").fetchone()[0]
    total = db.execute("SELECT count(*) FROM items").fetchone()[0]
    size = path.stat().st_size / 1e9
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{path.name}: {total:,} items, {size:.1f} GB, newest published {newest}; "
          f"sqlite {sqlite3.sqlite_version}, cache {-int(db.execute('PRAGMA cache_size').fetchone()[0]) // 1024} MB;"
          f" {os.cpu_count()} CPUs, load average {load:.1f} (timings grow with it)")
    newest_day = date.fromisoformat(newest[:10])
    report = {
        "items": total,
        "load_average_at_start": round(load, 2),
        "sqlite": sqlite3.sqlite_version,
        "search": bench_searches(db, path, newest_day, args.repeat),
        "views": bench_views(db, newest_day, args.repeat),
        "saved_queries": bench_saved_queries(db, args.repeat),
    }
    db.conn.close()
    report["inserts"] = bench_inserts()
    out = args.json or (path.with_name(f"{path.stem}-search.json") if args.db
                        else path.parent / f"search-{args.items}.json")
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    ok = report["search"]["pass"] and report["views"]["pass"]
    print(f"\nfigures written to {out}; bars {'met' if ok else 'NOT met'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

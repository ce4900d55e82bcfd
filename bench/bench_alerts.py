"""Alert check on a large database: rules, spikes and source health vs a full scan of items.

Usage: python bench/bench_alerts.py [--items N] [--repeat N]

Uses the search benchmark's database (N tagged items over two years from ~60 sources,
with the full-text index; generated once and cached in bench/results/, see
bench/generate_items.py). Times what runs after every collection cycle, at the time of
the newest item: the spike check (every topic and platform + topic pair, the last 6
hours against 112 six-hour windows over 28 days), four priority rules (one of them a
full-text query) over the items collected in the last hour, and source health; then
the whole check (recording, not sending). Each repetition removes what the previous
one recorded, so each does the full work. Baseline, measured in the same run: one full
scan of the items table. Target: the whole check well under one second (it runs after
every cycle).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.generate_items import cached_database  # noqa: E402

RULES = [
    {"name": "Ofcom and the minister", "query": '"online safety" AND (minister OR ofcom)', "relevant_only": False},
    {"name": "Sextortion on Snapchat", "topics": ["sextortion"], "platforms": ["snapchat", "instagram"]},
    {"name": "Online Safety Act", "legislation": ["online_safety_act_uk"]},
    {"name": "Grooming gangs", "topics": ["grooming_gangs"], "relevant_only": False},
]


def forget(store) -> None:  # type: ignore[no-untyped-def]
    """Remove what a repetition recorded, so the next one does the same work."""
    from monitor.alerts.engine import CHECKED_KEY

    with store.db.conn:
        store.db.execute("DELETE FROM alert_items")
        store.db.execute("DELETE FROM alerts")
        store.db.execute("DELETE FROM settings WHERE key = ?", [CHECKED_KEY])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from monitor.alerts import engine
    from monitor.config import config_from_dict
    from monitor.store import open_store
    from monitor.types import from_iso

    path = cached_database(args.items)
    config = config_from_dict({"storage": {"path": str(path)}, "alerts": {"rules": RULES}})
    alerts = config.alerts
    assert alerts is not None
    store = open_store(path)  # applies the alerts migration to a database generated before it, once
    newest = from_iso(store.db.execute("SELECT MAX(collected_at) FROM items").fetchone()[0])
    assert newest is not None
    NOW = newest.replace(second=0) + timedelta(minutes=1)  # just after the last cycle stored its items
    forget(store)
    try:
        phases: dict[str, list[float]] = {"spikes": [], "rules": [], "health": [], "whole check": [],
                                          "`alerts test` (query, 7 days)": []}
        found = dry = None
        for _ in range(args.repeat):
            for name, step in (("spikes", lambda r: engine.check_spikes(store, alerts, NOW, r)),
                               ("rules", lambda r: engine.check_rules(store, alerts, NOW, r)),
                               ("health", lambda r: engine.check_health(store, config, NOW, r))):
                report = engine.AlertReport(NOW)
                started = time.perf_counter()
                step(report)
                phases[name].append(time.perf_counter() - started)
                forget(store)
            started = time.perf_counter()
            found = engine.run_alerts(store, config, NOW, secret=lambda _name: None, send=False)
            phases["whole check"].append(time.perf_counter() - started)
            forget(store)
            started = time.perf_counter()
            dry = engine.dry_run(store, config, RULES[0]["name"], 7, NOW)
            phases["`alerts test` (query, 7 days)"].append(time.perf_counter() - started)

        scans = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            store.db.execute("SELECT COUNT(*), SUM(LENGTH(title)), MAX(published_at) FROM items").fetchone()
            scans.append(time.perf_counter() - started)
        count = store.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        recent = store.db.execute("SELECT COUNT(*) FROM items WHERE collected_at >= ?",
                                  [(NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")]).fetchone()[0]
    finally:
        forget(store)
        store.close()

    assert found is not None and dry is not None
    kinds = {kind: found.count(kind) for kind in ("rule", "spike", "health")}
    whole, scan = statistics.median(phases["whole check"]), statistics.median(scans)
    print(f"database: {count:,} items, {path.stat().st_size / 1e6:.0f} MB; {recent} collected in the hour before"
          f" the check")
    print(f"one check at {NOW:%Y-%m-%d %H:%M} UTC records {kinds['rule']} rule, {kinds['spike']} spike and"
          f" {kinds['health']} source-health alerts; the query rule's dry run over 7 days checks"
          f" {dry.items_checked:,} items and finds {len(dry.alerts)} stories")
    print(f"{'full scan of items (baseline):':<46}{scan * 1000:8.0f} ms")
    for name, values in phases.items():
        print(f"{name + ', median of ' + str(args.repeat) + ':':<46}{statistics.median(values) * 1000:8.0f} ms")
    print(f"{'ratio (whole check / full scan):':<46}{whole / scan:8.2f}x")
    print(f"{'target: whole check under 1000 ms:':<46}{'met' if whole < 1.0 else 'NOT MET':>8}")
    print(f"(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} during the run)")


if __name__ == "__main__":
    main()

"""Alert check on a large database: rules, spikes and source health vs a full scan of items.

Usage: python bench/bench_alerts.py [--items N] [--repeat N] [--rebuild]

Uses the digest benchmark's database (N tagged items over a year from 55 sources,
generated once and cached in bench/results/; see bench_digest.py). Times what runs
after every collection cycle: the spike check (every topic and platform + topic pair,
the last 6 hours against 112 six-hour windows over 28 days), three priority rules over
the items collected in the last hour, and source health; then the whole check
(recording, not sending). Each repetition removes what the previous one recorded, so
each does the full work. Baseline, measured in the same run: one full scan of the
items table. Target: the whole check well under one second (it runs every cycle).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_digest import DAYS, NOW, database  # noqa: E402

RULES = [
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
    parser.add_argument("--rebuild", action="store_true", help="generate the database again")
    args = parser.parse_args()

    from monitor.alerts import engine
    from monitor.config import config_from_dict
    from monitor.store import open_store

    path = database(args.items, args.rebuild)
    config = config_from_dict({"storage": {"path": str(path)}, "alerts": {"rules": RULES}})
    alerts = config.alerts
    assert alerts is not None
    store = open_store(path)  # applies the alerts migration to a database generated before it, once
    forget(store)
    try:
        phases: dict[str, list[float]] = {"spikes": [], "rules": [], "health": [], "whole check": []}
        found = None
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

        scans = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            store.db.execute("SELECT COUNT(*), SUM(LENGTH(title)), MAX(published_at) FROM items").fetchone()
            scans.append(time.perf_counter() - started)
        count = store.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    finally:
        forget(store)
        store.close()

    assert found is not None
    kinds = {kind: found.count(kind) for kind in ("rule", "spike", "health")}
    whole, scan = statistics.median(phases["whole check"]), statistics.median(scans)
    print(f"database: {count:,} items over {DAYS} days, {path.stat().st_size / 1e6:.0f} MB")
    print(f"one check at {NOW:%Y-%m-%d %H:%M} UTC records {kinds['rule']} rule, {kinds['spike']} spike and"
          f" {kinds['health']} source-health alerts")
    print(f"full scan of items (baseline):   {scan * 1000:8.0f} ms")
    for name, values in phases.items():
        print(f"{name + ', median of ' + str(args.repeat) + ':':<33}{statistics.median(values) * 1000:8.0f} ms")
    print(f"ratio (whole check / full scan): {whole / scan:8.2f}x")
    print(f"target: check under 1000 ms:     {'met' if whole < 1.0 else 'NOT MET'}")
    print(f"(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} during the run)")


if __name__ == "__main__":
    main()

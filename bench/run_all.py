"""Run every benchmark in turn, one command, and keep a log of the whole run.

Usage: python bench/run_all.py [--only NAME ...] [--skip NAME ...]

Each benchmark measures its own baseline in the same process run and prints ratios; this
script only runs them one after another (never in parallel: they would disturb each
other's timings on a small machine), prints their output as it comes, and copies it to
``bench/results/run-all-<UTC time>.log``. A benchmark that fails is reported and the rest
still run; the exit status is 1 if any failed. The feed-cycle benchmark needs the
``bench`` extra (``pip install -e '.[bench]'``) for its comparison with ``reader``; the
digest, search and alerts benchmarks build a database of a million invented items the
first time (several minutes, cached in ``bench/results/``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ORDER = [
    "feed_parse",
    "feed_cycle",
    "reddit_collect",
    "api_collect",
    "tagger",
    "purge",
    "digest",
    "search",
    "alerts",
    "service_memory",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=ORDER, help="run just these")
    parser.add_argument("--skip", nargs="+", choices=ORDER, default=[], help="leave these out")
    args = parser.parse_args()
    names = [n for n in (args.only or ORDER) if n not in args.skip]
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    log_path = results / f"run-all-{stamp}.log"
    failed: list[str] = []
    with log_path.open("w", encoding="utf-8") as log:
        for name in names:
            header = f"\n=== bench_{name}.py ({dt.datetime.now(dt.timezone.utc):%H:%M:%S} UTC) ===\n"
            sys.stdout.write(header)
            log.write(header)
            started = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, str(BENCH / f"bench_{name}.py")],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(line)
                log.write(line)
                log.flush()
            status = proc.wait()
            footer = f"--- bench_{name}.py: exit {status}, {time.monotonic() - started:.0f} s\n"
            if status != 0:
                failed.append(name)
            sys.stdout.write(footer)
            log.write(footer)
        summary = f"\n{len(names) - len(failed)} of {len(names)} benchmarks ran" + (
            f"; failed: {', '.join(failed)}\n" if failed else "\n"
        )
        sys.stdout.write(summary + f"log: {log_path}\n")
        log.write(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

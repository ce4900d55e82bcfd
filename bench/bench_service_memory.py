"""Memory of `monitor run` over many fast cycles: does it stay flat?

Usage: python bench/bench_service_memory.py [--cycles 1000] [--warmup 100]

Starts `monitor run` as a child process against local feed servers (on 127.0.0.1: feeds
that answer 304 after the first poll, a feed with a new invented story at every poll, and
one that always fails) with sub-second intervals, so every check polls every source.
Cycles are counted from the service's own STATUS notifications on a NOTIFY_SOCKET, and
the child's resident memory (VmRSS) is sampled from /proc. The baseline is the RSS after
the warm-up cycles (imports, caches and connection pools settled) in the same run; the
result is the end RSS as a ratio of it. The goal is growth under 10% (ratio < 1.10).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000, help="collection cycles to run (default 1000)")
    parser.add_argument("--warmup", type=int, default=100, help="cycles before the baseline sample (default 100)")
    args = parser.parse_args()

    from monitor.demo.server import LocalServer, Reply, Request, static
    from tests.servicetools import invented_rss, write_config

    served = {"rotating": 0}

    def rotating(_request: Request) -> Reply:  # one new invented story per poll, a window of 10
        served["rotating"] += 1
        body = invented_rss("rotating", 10, start=served["rotating"])
        return Reply(200, {"Content-Type": "application/rss+xml"}, body)

    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        tmp_path = Path(tmp)
        feeds = [
            {"name": "Static one", "url": server.route("/one.xml", static(invented_rss("one", 20)))},
            {"name": "Static two", "url": server.route("/two.xml", static(invented_rss("two", 20)))},
            {"name": "Rotating", "url": server.route("/rotating.xml", rotating)},
            {"name": "Failing", "url": server.route("/failing.xml", lambda _r: Reply(500, {}, b"invented error"))},
        ]
        config = write_config(tmp_path / "config.toml", {
            "storage": {"path": str(tmp_path / "bench.db")},
            "http": {"timeout": 10.0},
            "schedule": {"interval_minutes": 0.0001, "min_interval_minutes": 0.0001, "jitter": 0.0,
                         "backoff_cap_hours": 0.0001},
            "service": {"tick_seconds": 0.02, "backup_keep": 0},
        }, feeds)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"monitor-bench-{os.getpid()}"
        sock.bind(b"\0" + name.encode())
        sock.settimeout(30)
        env = {**os.environ, "NOTIFY_SOCKET": "@" + name, "PYTHONPATH": str(REPO)}
        env.pop("MONITOR_CONFIG", None)
        process = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"],
                                   env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        samples: list[tuple[int, int]] = []
        started = time.monotonic()
        ready_rss = None
        checks = 0
        next_sample = 0
        try:
            while checks < args.cycles:
                message = sock.recv(65536).decode()
                if message.startswith("READY=1"):
                    ready_rss = rss_kib(process.pid)
                match = re.search(r"STATUS=.*; (\d+) checks?,", message)
                if not match:
                    continue
                checks = int(match.group(1))
                if checks >= next_sample:
                    samples.append((checks, rss_kib(process.pid)))
                    next_sample = checks + max(1, args.cycles // 20)
            samples.append((checks, rss_kib(process.pid)))
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
        elapsed = time.monotonic() - started

    baseline = next(rss for n, rss in samples if n >= args.warmup)
    end = samples[-1][1]
    print(f"monitor run: {checks} cycles in {elapsed:.0f} s ({checks / elapsed:.1f} cycles/s), "
          f"{served['rotating']} polls of the rotating feed; exit status {code}")
    print(f"RSS after start-up (READY): {ready_rss / 1024:.1f} MiB")
    for n, rss in samples:
        print(f"  after {n:5d} cycles: {rss / 1024:6.1f} MiB")
    print(f"RSS at start (after {args.warmup} warm-up cycles): {baseline / 1024:.1f} MiB")
    print(f"RSS at end (after {checks} cycles):        {end / 1024:.1f} MiB")
    ratio = end / baseline
    print(f"end / start: {ratio:.3f}  ({(ratio - 1) * 100:+.1f}%; goal: under +10%)")
    sys.exit(0 if ratio < 1.10 and code == 0 else 1)


if __name__ == "__main__":
    main()

"""`monitor run` as a real child process against local feed servers, as systemd runs it:
readiness, watchdog and status on a notify socket; SIGTERM and SIGINT; kill -9 and restart."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from monitor.demo.reddit_api import FakeRedditAPI
from monitor.demo.server import LocalServer, Reply, Request, static
from tests.conftest import DATA
from tests.helpers import REDDIT_USER_AGENT
from tests.servicetools import (
    NotifySocket,
    fast_sections,
    invented_reddit_post,
    invented_rss,
    query,
    start_run,
    wait_until,
    write_config,
)

GAZETTE = (DATA / "feeds" / "ours_rss20.xml").read_bytes()  # 4 items, written for the tests


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(sig)
    code = process.wait(timeout=15)
    return code, time.monotonic() - started


def test_run_collects_news_and_reddit_tells_systemd_and_stops_cleanly_on_sigterm(server, tmp_path):
    gazette = server.route("/gazette.xml", static(GAZETTE))
    herald = server.route("/herald.xml", static(invented_rss("herald", 25)))
    reddit = FakeRedditAPI(server)  # the same local server also plays Reddit's API
    now = datetime.now(timezone.utc)
    for n in range(3):
        reddit.add_post(invented_reddit_post(n, now - timedelta(hours=2, minutes=n)))
    db = tmp_path / "state" / "monitor.db"
    config = write_config(tmp_path / "config.toml", fast_sections(db, reddit={
        "user_agent": REDDIT_USER_AGENT, "oauth_url": reddit.base_url, "reddit_url": reddit.base_url,
        "subreddits": [{"name": "Parenting"}]}),
        [{"name": "Gazette", "url": gazette}, {"name": "Herald", "url": herald}])
    log = tmp_path / "run.log"
    secrets = {"REDDIT_CLIENT_ID": reddit.client_id, "REDDIT_CLIENT_SECRET": reddit.client_secret,
               "MONITOR_HASH_KEY": "invented-hash-key-0123456789abcdef"}
    with NotifySocket() as notify, log.open("w") as stderr:
        process = start_run(config, tmp_path, stderr=stderr, options=("-vv",),  # debug logs: still no secret
                            env={"NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": "1000000", **secrets})
        try:
            wait_until(lambda: query(db, "SELECT media, COUNT(*) FROM items GROUP BY media ORDER BY media")
                       == [("news", 29), ("reddit", 3)], 30, "29 news items and 3 Reddit posts stored")
            wait_until(lambda: all(f"{name}: not modified" in log.read_text() for name in ("Gazette", "Herald")),
                       10, "a second poll of each feed")
            wait_until(lambda: len(notify.with_key("WATCHDOG")) >= 2, 10, "watchdog pings")
            wait_until(lambda: any("reddit " in m["STATUS"] for m in notify.with_key("STATUS")), 10,
                       "a STATUS with the Reddit cycle's summary")
        finally:
            code, took = stop(process)
        wait_until(lambda: notify.with_key("STOPPING"), 5, "STOPPING=1")
    assert code == 0 and took < 10
    assert notify.messages[0]["READY"] == "1"  # ready before anything else
    status = [m["STATUS"] for m in notify.with_key("STATUS")]
    assert any("collect " in s and "2 sources, 2 ok, 0 failed; 29 new" in s for s in status), status
    assert any("reddit " in s and "1 source, 1 ok, 0 failed; 3 new" in s for s in status), status
    assert all("\n" not in s for s in status)
    text = log.read_text()
    lines = text.splitlines()
    assert any(line.endswith("monitor.collect: Herald: 25 new, 0 updated, 0 seen") for line in lines), lines
    assert any(line.endswith("monitor.collect: r/Parenting: 3 new, 0 updated, 0 seen") for line in lines), lines
    assert any(line.endswith("monitor.collect: Gazette: not modified") for line in lines), lines
    assert lines[-1].endswith("monitor.service: stopped")
    assert not [line for line in lines if " ERROR " in line or "Traceback" in line]
    for secret in [*secrets.values(), reddit.token]:
        assert secret not in text
    # Nothing was collected twice across polls: the second poll was a conditional GET.
    assert server.requests_to("/herald.xml")[1].headers.get("if-none-match")
    assert query(db, "SELECT COUNT(*), COUNT(DISTINCT url) FROM items WHERE media = 'news'") == [(29, 29)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_in_the_middle_of_a_slow_fetch_exits_at_once_and_leaves_the_source_due(server, tmp_path, sig):
    """systemd stops with SIGTERM; Ctrl-C in a terminal sends SIGINT: the same clean stop."""
    def trickle(_request: Request) -> Reply:
        def body():
            for _ in range(300):  # a 30-second answer
                yield b" "
                time.sleep(0.1)
        return Reply(200, {"Content-Type": "application/rss+xml"}, body())

    slow = server.route("/slow.xml", trickle)
    quick = server.route("/quick.xml", static(GAZETTE))
    db = tmp_path / "monitor.db"
    config = write_config(tmp_path / "config.toml", fast_sections(db, http={"timeout": 60.0}),
                          [{"name": "Slow", "url": slow}, {"name": "Quick", "url": quick}])
    log = tmp_path / "run.log"
    with log.open("w") as stderr:
        process = start_run(config, tmp_path, stderr=stderr)
        wait_until(lambda: query(db, "SELECT COUNT(*) FROM items") == [(4,)], 20, "Quick's items")
        wait_until(lambda: server.requests_to("/slow.xml"), 10, "the slow fetch to start")
        code, took = stop(process, sig)
    assert code == 0 and took < 10, (code, took, log.read_text())
    assert f"received {sig.name}: stopping" in log.read_text()
    # The interrupted source is neither failed nor backed off: it is simply due at the next start.
    assert query(db, "SELECT status FROM runs WHERE source_id = 'feed:slow'") == []
    assert query(db, "SELECT failures FROM fetch_state WHERE source_id = 'feed:slow'") in ([], [(0,)])
    assert "still fetching are left for the next start" in log.read_text()


def test_kill_9_in_the_middle_of_a_collection_then_restart_stores_every_item_exactly_once(tmp_path):
    feeds = {f"outlet{n}": invented_rss(f"outlet{n}", 40) for n in range(6)}
    offered = {f"https://news.invented.test/{name}/{i}" for name in feeds for i in range(40)}
    db = tmp_path / "monitor.db"
    with LocalServer() as server:
        urls = [{"name": name, "url": server.route(f"/{name}.xml", static(body))} for name, body in feeds.items()]
        # Ten-minute intervals: after the restart, sources already stored are not due again.
        config = write_config(tmp_path / "config.toml",
                              fast_sections(db, schedule={"interval_minutes": 10.0, "min_interval_minutes": 10.0}),
                              urls)
        first = start_run(config, tmp_path)
        try:
            wait_until(lambda: len(server.requests) >= 6, 20, "the first collection's requests")
            # Kill the moment the service holds the write lock, i.e. inside a batch's transaction.
            probe = sqlite3.connect(str(db), timeout=0, isolation_level=None)

            def write_locked() -> bool:
                try:
                    probe.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError:
                    return True
                probe.execute("ROLLBACK")
                return False

            wait_until(write_locked, 20, "a write transaction", interval=0.001)
            first.kill()
            probe.close()
        finally:
            first.kill()
            first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        stored_before = query(db, "SELECT COUNT(*) FROM items")[0][0]
        assert stored_before < len(offered)  # the kill really interrupted the collection
        done_before = {row[0] for row in query(db, "SELECT source_id FROM runs WHERE status = 'ok'")}
        requests_before = len(server.requests)

        second = start_run(config, tmp_path)
        try:
            wait_until(lambda: query(db, "SELECT COUNT(DISTINCT source_id) FROM runs WHERE status = 'ok'")
                       == [(6,)], 30, "every source stored after the restart")
        finally:
            code, _took = stop(second)
        assert code == 0
        repolled = {r.path.strip("/").removesuffix(".xml") for r in server.requests[requests_before:]}
        # Sources stored before the kill were not polled again: their due time survived.
        assert not repolled & {source_id.removeprefix("feed:") for source_id in done_before}

    urls_stored = [row[0] for row in query(db, "SELECT url FROM items")]
    assert len(urls_stored) == len(set(urls_stored)) == len(offered)
    assert set(urls_stored) == offered
    assert query(db, "SELECT COUNT(*) FROM item_sources") == [(len(offered),)]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def test_logs_carry_syslog_priorities_when_stderr_is_the_journal(server, tmp_path):
    url = server.route("/gone.xml", lambda _r: Reply(503, {"Content-Type": "text/plain"}, b"down"))
    db = tmp_path / "monitor.db"
    config = write_config(tmp_path / "config.toml", fast_sections(db), [{"name": "Down", "url": url}])
    log = tmp_path / "journal.log"
    with log.open("w") as stderr:
        stat = os.fstat(stderr.fileno())
        process = start_run(config, tmp_path, env={"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"},
                            stderr=stderr)
        wait_until(lambda: "Down:" in log.read_text(), 20, "the failure's log line")
        code, _took = stop(process)
    assert code == 0
    lines = log.read_text().splitlines()
    assert any(line.startswith("<3>monitor.collect: Down: HTTP 503") for line in lines), lines
    assert any(line.startswith("<6>monitor.service: started") for line in lines), lines
    assert not any(line[:1] != "<" for line in lines), lines  # journald adds the time itself

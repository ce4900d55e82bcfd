"""The service in-process, with real threads, a real scheduler, real sockets and a real
SQLite file: hung servers, long readers, restarts, the watchdog and daily jobs."""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest

from monitor.app import open_monitor
from monitor.demo.server import Reply, Request, static
from monitor.notify import Notifier
from monitor.service import Progress, Service
from tests.conftest import DATA
from tests.helpers import reddit_section
from tests.servicetools import NotifySocket, invented_reddit_post, invented_rss, query, wait_until

GAZETTE = (DATA / "feeds" / "ours_rss20.xml").read_bytes()  # 4 items, written for the tests
FAST = {"interval_minutes": 0.01, "min_interval_minutes": 0.005, "jitter": 0.0}


@pytest.fixture
def release():
    """Set at teardown to let hung server handlers go."""
    event = threading.Event()
    yield event
    event.set()


def test_a_request_that_hangs_forever_does_not_stop_the_other_sources_next_cycles(server, make_config, release):
    def hang(_request: Request) -> Reply:
        release.wait(120)  # never answers while the test runs
        return Reply(200, {}, b"")

    hung = server.route("/hung.xml", hang)
    good = server.route("/good.xml", static(GAZETTE))
    # The per-request timeout (60 s) is far away: only the cycle's deadline can save the others.
    config = make_config(http={"timeout": 60.0}, schedule=FAST,
                         service={"tick_seconds": 0.2, "cycle_deadline_seconds": 1.0},
                         feeds=[{"name": "Hung", "url": hung}, {"name": "Good", "url": good}])
    service = Service(config, notifier=Notifier(environ={}))
    service.start()
    try:
        wait_until(lambda: len(server.requests_to("/good.xml")) >= 4, 20, "four polls of the good source")
        assert not release.is_set()  # ... while the first hung request is still hanging
    finally:
        assert service.stop()
    db = config.storage.path
    failed = query(db, "SELECT error FROM runs WHERE source_id = 'feed:hung'")
    assert failed and all("deadline passed; abandoned" in row[0] for row in failed)
    good_runs = [row[0] for row in query(db, "SELECT status FROM runs WHERE source_id = 'feed:good'")]
    assert len(good_runs) >= 3 and set(good_runs) <= {"ok", "not_modified"}
    assert query(db, "SELECT failures > 0 FROM fetch_state WHERE source_id = 'feed:hung'") == [(1,)]


def test_a_long_read_transaction_never_makes_collection_fail(server, make_config):
    served = {"count": 0}

    def growing(_request: Request) -> Reply:  # one more story at every poll
        served["count"] += 1
        return Reply(200, {"Content-Type": "application/rss+xml"}, invented_rss("growing", served["count"]))

    url = server.route("/growing.xml", growing)
    config = make_config(schedule=FAST, service={"tick_seconds": 0.2},
                         feeds=[{"name": "Growing", "url": url}])
    open_monitor(config).close()  # create the database
    analyst = sqlite3.connect(config.storage.path, isolation_level=None)
    analyst.execute("BEGIN")
    snapshot = analyst.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    service = Service(config, notifier=Notifier(environ={}))
    service.start()
    try:
        wait_until(lambda: query(config.storage.path, "SELECT COUNT(*) FROM items")[0][0] >= 5, 20,
                   "five polls' worth of items")
        # The analyst's transaction is still open and still sees its old snapshot.
        assert analyst.in_transaction
        assert analyst.execute("SELECT COUNT(*) FROM items").fetchone()[0] == snapshot == 0
    finally:
        assert service.stop()
        analyst.execute("COMMIT")
        analyst.close()
    statuses = {row[0] for row in query(config.storage.path, "SELECT status FROM runs")}
    assert statuses == {"ok"}
    # The daily maintenance (integrity check and backup) ran at start, under the same reader.
    assert query(config.storage.path, "SELECT status, integrity FROM maintenance_runs") == [("ok", "ok")]


def test_a_restart_polls_only_what_is_due_and_does_not_repeat_maintenance(server, make_config):
    urls = [server.route(f"/f{n}.xml", static(invented_rss(f"f{n}", 3))) for n in range(3)]
    config = make_config(schedule={"interval_minutes": 30.0},
                         service={"tick_seconds": 0.2},
                         feeds=[{"name": f"F{n}", "url": url} for n, url in enumerate(urls)])
    first = Service(config, notifier=Notifier(environ={}))
    first.start()
    wait_until(lambda: query(config.storage.path, "SELECT COUNT(*) FROM runs") == [(3,)], 20, "three runs")
    wait_until(lambda: query(config.storage.path, "SELECT COUNT(*) FROM maintenance_runs") == [(1,)], 20,
               "maintenance")
    assert first.stop()
    requests = len(server.requests)

    second = Service(config, notifier=Notifier(environ={}))
    second.start()
    wait_until(lambda: second.stats["collect"].runs >= 3 and second.stats["maintenance"].runs >= 1, 20,
               "three checks and the maintenance check after the restart")
    assert second.stop()
    assert len(server.requests) == requests  # nothing was due: nothing was fetched again
    assert query(config.storage.path, "SELECT COUNT(*) FROM maintenance_runs") == [(1,)]  # not twice in a day
    jobs = dict(query(config.storage.path, "SELECT job, runs FROM service_jobs"))
    assert jobs["collect"] >= 3  # counts since the last start, for `monitor doctor`


def test_the_watchdog_is_fed_only_while_jobs_make_progress(make_config):
    clock = {"now": 1000.0}
    progress = Progress(stall_seconds=60, clock=lambda: clock["now"])
    assert progress.stalled({"collect": 30}) is None
    assert progress.begin("collect")
    clock["now"] += 59
    assert progress.stalled({"collect": 30}) is None
    clock["now"] += 2
    assert progress.stalled({"collect": 30}) == "the collect job has been running for 61 s"
    progress.end("collect")
    assert progress.stalled({"collect": 30}) is None
    clock["now"] += 91  # no collect for longer than its interval plus the stall limit
    assert progress.stalled({"collect": 30}) == "the collect job has not run for 152 s"

    # The heartbeat itself, on a real notify socket: WATCHDOG=1 while healthy, none when stalled.
    config = make_config(service={"stall_minutes": 1.0, "tick_seconds": 30.0})
    with NotifySocket() as notify:
        service = Service(config, notifier=Notifier(notify.name), environ={"WATCHDOG_USEC": "2000000"})
        assert service.watchdog_seconds == 2.0
        service.heartbeat()
        wait_until(lambda: notify.with_key("WATCHDOG"), 5, "a watchdog ping")
        service.progress = progress  # stalled: a job never made progress for too long
        progress.begin("collect")
        clock["now"] += 120
        service.heartbeat()
        wait_until(lambda: any("STALLED" in m["STATUS"] for m in notify.with_key("STATUS")), 5, "a STALLED status")
        assert len(notify.with_key("WATCHDOG")) == 1


def test_stop_waits_for_the_batch_being_stored_and_nothing_starts_after(make_config):
    progress = Progress(stall_seconds=60)
    assert progress.begin("collect")
    ended = threading.Timer(0.2, progress.end, ["collect"])
    ended.start()
    progress.close()
    assert not progress.begin("maintenance")  # no new job once stopping
    assert progress.wait_idle(5)
    assert not progress.running


@pytest.mark.parametrize("now, last, due", [
    # maintenance at 03:30 Europe/London
    ("2026-06-10T02:29:00Z", None, True),  # never ran: now
    ("2026-06-10T02:29:00Z", "2026-06-09T02:30:00Z", False),  # 03:29 BST: today's not yet due
    ("2026-06-10T02:31:00Z", "2026-06-09T02:30:00Z", True),  # 03:31 BST: due
    ("2026-06-10T09:00:00Z", "2026-06-10T02:31:00Z", False),  # done today
    ("2026-06-12T09:00:00Z", "2026-06-09T02:31:00Z", True),  # down for two days: once when back
    ("2026-12-10T03:29:00Z", "2026-12-09T03:30:00Z", False),  # winter: 03:30 GMT is 03:30 UTC
    ("2026-12-10T03:31:00Z", "2026-12-09T03:30:00Z", True),
])
def test_daily_jobs_are_due_once_per_local_day_after_their_time(now, last, due):
    from monitor.schedule import daily_due
    from monitor.types import from_iso

    assert daily_due(from_iso(now), from_iso(last), "03:30", "Europe/London") is due


def test_the_daily_time_follows_the_clock_change():
    from monitor.schedule import last_daily_time

    # 01:30 does not exist on 29 March 2026 in London (clocks go 01:00 -> 02:00): still once.
    moment = last_daily_time(datetime(2026, 3, 29, 12, tzinfo=timezone.utc), "01:30", "Europe/London")
    assert moment.date().isoformat() == "2026-03-29"
    before = last_daily_time(datetime(2026, 3, 28, 12, tzinfo=timezone.utc), "01:30", "Europe/London")
    assert timedelta(hours=23) <= moment - before <= timedelta(hours=25)


def test_reddit_is_collected_and_posts_deleted_upstream_are_purged_by_the_recheck_job(reddit_api, make_config):
    now = datetime.now(timezone.utc)
    posts = [invented_reddit_post(n, now - timedelta(hours=1, minutes=n)) for n in range(3)]
    for post in posts:
        reddit_api.add_post(post)
    config = make_config(schedule=FAST, reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]),
                         service={"tick_seconds": 0.2, "recheck_hours": 0.0005})  # a re-check every 1.8 s
    service = Service(config, notifier=Notifier(environ={}))
    service.start()
    try:
        assert service.job_names() == ["collect", "reddit", "recheck", "maintenance"]
        wait_until(lambda: query(config.storage.path, "SELECT COUNT(*) FROM items WHERE media = 'reddit'") == [(3,)],
                   30, "the Reddit posts")
        reddit_api.delete("t3_" + posts[0]["id"])  # deleted by its author on Reddit
        wait_until(lambda: query(config.storage.path, "SELECT title, deleted_at IS NOT NULL FROM items WHERE id = ?",
                                 ["t3_" + posts[0]["id"]]) == [("", 1)], 30, "the deleted post to be purged")
    finally:
        assert service.stop()
    rechecks = query(config.storage.path, "SELECT checked, purged, error FROM rechecks ORDER BY id")
    assert rechecks[-1] == (3, 1, None)
    from monitor.doctor import check_recheck, open_readonly

    db = open_readonly(config.storage.path)
    line = check_recheck(config, db, datetime.now(timezone.utc)).line()
    db.conn.close()
    assert line.startswith("OK    reddit re-check: last run ") and line.endswith("3 checked, 1 purged")
    jobs = {row[0]: row[1:] for row in query(config.storage.path, "SELECT job, runs, errors FROM service_jobs")}
    assert jobs["reddit"][0] >= 1 and jobs["recheck"][0] >= 1 and all(row[1] == 0 for row in jobs.values())

    # A restart does not re-check again before the interval since the last one has passed.
    config = make_config(schedule=FAST, reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]),
                         service={"tick_seconds": 0.2, "recheck_hours": 1.0})
    again = Service(config, notifier=Notifier(environ={}))
    again.start()
    try:
        wait_until(lambda: again.stats["reddit"].runs >= 3, 20, "three Reddit checks")
    finally:
        assert again.stop()
    assert len(query(config.storage.path, "SELECT * FROM rechecks")) == len(rechecks)


def test_without_reddit_credentials_news_is_still_collected_and_the_problem_said_once(
        server, reddit_api, make_config, monkeypatch, caplog):
    monkeypatch.delenv("REDDIT_CLIENT_SECRET")
    url = server.route("/gazette.xml", static(GAZETTE))
    config = make_config(schedule=FAST, reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]),
                         service={"tick_seconds": 0.2}, feeds=[{"name": "Gazette", "url": url}])
    service = Service(config, notifier=Notifier(environ={}))
    service.start()
    try:
        assert service.job_names() == ["collect", "maintenance"]
        wait_until(lambda: service.stats["collect"].runs >= 3, 20, "three checks")
    finally:
        assert service.stop()
    assert query(config.storage.path, "SELECT COUNT(*) FROM items") == [(4,)]
    problems = [r.getMessage() for r in caplog.records if "REDDIT_CLIENT_SECRET" in r.getMessage()]
    assert len(problems) == 1 and "provide them and restart" in problems[0]
    assert reddit_api.api_calls() == []


def test_the_service_polls_parliament_and_social_sources_and_says_once_when_bluesky_cannot_log_in(
        reddit_api, hansard_api, bluesky_api, mastodon_instances, make_config, monkeypatch, caplog):
    """Hansard, Mastodon and Bluesky ride the collect job; missing Bluesky secrets neither
    stop Reddit's jobs nor fill the log with one warning a cycle."""
    from tests.helpers import our_data

    monkeypatch.delenv("BLUESKY_APP_PASSWORD")
    for result in our_data("parliament", "ours_contributions.json")["results"]:
        hansard_api.add(dict(result, SittingDate=datetime.now(timezone.utc).strftime("%Y-%m-%dT00:00:00")))
    instance, _other = mastodon_instances
    for status in our_data("mastodon", "ours_statuses.json")["statuses"]:
        instance.add_status(status)
    reddit_api.add_post(invented_reddit_post(1, datetime.now(timezone.utc) - timedelta(hours=1)))
    config = make_config(schedule=FAST, service={"tick_seconds": 0.2},
                         reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]),
                         hansard={"api_url": hansard_api.base_url, "searches": [{"query": "grooming"}]},
                         mastodon={"hashtags": [{"instance": instance.base_url, "tag": "OnlineSafety"}]},
                         bluesky={"api_url": bluesky_api.base_url, "searches": [{"query": "grooming"}]})
    service = Service(config, notifier=Notifier(environ={}))
    service.start()
    try:
        assert service.job_names() == ["collect", "reddit", "recheck", "maintenance"]  # Reddit's jobs still run
        wait_until(lambda: query(config.storage.path, "SELECT media, COUNT(*) FROM items GROUP BY media ORDER BY media")
                   == [("parliament", 5), ("reddit", 1), ("social", 3)], 30, "every kind of source")
        wait_until(lambda: service.stats["collect"].runs >= 4, 20, "a few more cycles")
    finally:
        assert service.stop()
    problems = [r.getMessage() for r in caplog.records if "BLUESKY_APP_PASSWORD" in r.getMessage()]
    assert len(problems) == 2, problems  # the service's start-up line, and one from the first cycle
    assert "Bluesky sources are not collected; provide them and restart" in problems[0]
    assert bluesky_api.calls() == []


def test_a_trickling_reddit_recheck_is_abandoned_at_its_deadline_and_news_goes_on(
        server, reddit_api, make_config, caplog):
    """praw's timeout is per read: without the re-check's own deadline, a server sending a
    byte every half second would keep the service's one worker thread for ever."""
    now = datetime.now(timezone.utc)
    reddit_api.add_post(invented_reddit_post(1, now - timedelta(hours=1)))
    reddit_api.trickle("/api/info", lasting=60.0)
    served = {"count": 0}

    def growing(_request: Request) -> Reply:  # one more story at every poll
        served["count"] += 1
        return Reply(200, {"Content-Type": "application/rss+xml"}, invented_rss("growing", served["count"]))

    url = server.route("/growing.xml", growing)
    config = make_config(http={"timeout": 2.0}, schedule=FAST, feeds=[{"name": "Growing", "url": url}],
                         reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]),
                         service={"tick_seconds": 0.2, "recheck_hours": 0.0005,  # a re-check every 1.8 s
                                  "recheck_deadline_seconds": 1.0})
    service = Service(config, notifier=Notifier(environ={}))
    service.start()
    try:
        wait_until(lambda: reddit_api.api_calls("/api/info"), 30, "a re-check asking the trickling server")
        polls = served["count"]
        wait_until(lambda: served["count"] >= polls + 5, 20, "five more news polls while Reddit trickles")
        wait_until(lambda: query(config.storage.path, "SELECT error FROM rechecks WHERE checked = 0 AND error"
                                 " LIKE 'no answer from Reddit%'"), 20, "the abandoned re-check's record")
    finally:
        assert service.stop()
    assert query(config.storage.path, "SELECT COUNT(*) FROM items WHERE media = 'news'")[0][0] >= 5
    assert service.stats["recheck"].errors >= 1  # counted as a job error ...
    lines = [r.getMessage() for r in caplog.records if "re-check's 1 s deadline" in r.getMessage()]
    assert lines[0] == ("Reddit re-check stopped early: no answer from Reddit within the re-check's 1 s deadline;"
                        " abandoned the request, the rest waits for the next re-check")  # ... with one clear line


def test_runs_missed_while_a_job_is_still_running_are_logged_once_and_counted_where_the_operator_looks(
        server, make_config, caplog):
    """A collection cycle longer than the tick: the runs due meanwhile are skipped, not
    queued or run alongside (``max_instances=1``), and counted: in STATUS=, in
    ``service_jobs`` and by `monitor doctor`."""
    busy = {"now": 0, "most": 0}
    lock = threading.Lock()

    def slow(_request: Request) -> Reply:
        with lock:
            busy["now"] += 1
            busy["most"] = max(busy["most"], busy["now"])
        try:
            threading.Event().wait(1.0)  # every poll takes a second; the tick is 0.2 s
            return Reply(200, {"Content-Type": "application/rss+xml"}, GAZETTE)
        finally:
            with lock:
                busy["now"] -= 1

    caplog.set_level(logging.INFO, logger="monitor.service")
    url = server.route("/slow.xml", slow)
    config = make_config(schedule=FAST, service={"tick_seconds": 0.2}, feeds=[{"name": "Slow", "url": url}])
    with NotifySocket() as notify:
        service = Service(config, notifier=Notifier(notify.name))
        service.start()
        try:
            wait_until(lambda: service.stats["collect"].runs >= 3 and service.stats["collect"].missed >= 6, 30,
                       "three slow collection runs and the runs missed meanwhile")
        finally:
            assert service.stop()
        statuses = [m["STATUS"] for m in notify.with_key("STATUS")]
    stats = service.stats["collect"]
    assert busy["most"] == 1  # never two collection runs at once
    counted = [line for line in statuses if line.endswith(" missed runs") and not line.endswith(" 0 missed runs")]
    assert counted and counted[-1].startswith("collect ") and ", 0 job errors, " in counted[-1], statuses
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("collect: still running")]
    assert 1 <= len(said) <= stats.runs  # once per long run, not once per skipped tick
    assert said[0] == "collect: still running, so the next run waits for it (skipped runs are counted)"
    (missed,) = query(config.storage.path, "SELECT missed FROM service_jobs WHERE job = 'collect'")[0]
    assert missed >= 6
    from monitor.doctor import check_service, open_readonly

    db = open_readonly(config.storage.path)
    line = check_service(config, db, datetime.now(timezone.utc))[0].line()
    db.conn.close()
    assert f"0 job errors and {missed} missed runs since it started" in line, line

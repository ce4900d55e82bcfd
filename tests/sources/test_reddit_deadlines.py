"""A Reddit server that trickles its answer (a byte every half second: every read
arrives within praw's timeout, so praw alone would wait for ever) cannot hold up the
deletion re-check or the comment fetch past their deadline: what was done before it
is kept, one line says what happened, and news collection goes on in the same app.
Real praw against the fake Reddit API on 127.0.0.1 (``FakeRedditAPI.trickle``)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from monitor.app import open_monitor
from monitor.demo.server import static
from monitor.types import Tags
from tests.conftest import DATA
from tests.helpers import reddit_section, rows
from tests.sources.test_reddit_collect import make_posts

START = datetime(2026, 3, 1, tzinfo=timezone.utc)
NOW = START + timedelta(days=1)
GAZETTE = (DATA / "feeds" / "ours_rss20.xml").read_bytes()  # 4 items, written for the tests
DEADLINE = 2.0


def relevant(items):
    return {item.id: Tags(relevant=True, score=1.0, version="test") for item in items}


def test_a_trickling_recheck_ends_at_its_deadline_keeping_the_purges_already_made(
        reddit_api, server, make_config, monkeypatch, caplog):
    import monitor.sources.reddit as reddit

    names = make_posts(reddit_api, "privacy", 3, START)  # oldest first, as the re-check asks
    gazette = server.route("/gazette.xml", static(GAZETTE))
    config = make_config(http={"timeout": 2.0}, feeds=[{"name": "Gazette", "url": gazette}],
                         reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}]))
    with open_monitor(config, clock=lambda: NOW) as monitor:
        monitor.collect(media={"reddit"})
        reddit_api.delete(names[0])  # in the first batch, which Reddit answers
        reddit_api.trickle("/api/info", params={"id": names[2]})  # the second batch never finishes
        monkeypatch.setattr(reddit, "INFO_BATCH", 2)
        started = time.monotonic()
        report = monitor.recheck(deadline=DEADLINE)
        elapsed = time.monotonic() - started
        assert elapsed < 3 * DEADLINE, f"the re-check took {elapsed:.1f} s"
        assert (report.checked, report.purged) == (2, 1)
        assert report.error == ("no answer from Reddit within the re-check's 2 s deadline; abandoned the request,"
                                " the rest waits for the next re-check")
        assert rows(monitor, "SELECT title, deleted_at FROM items WHERE id = ?", [names[0]]) == [
            {"title": "", "deleted_at": "2026-03-02T00:00:00Z"}]  # purged before the deadline, and kept
        assert rows(monitor, "SELECT checked, purged, error FROM rechecks") == [
            {"checked": 2, "purged": 1, "error": report.error}]

        news = monitor.collect(names=["Gazette"])  # the same app goes on collecting
        assert [(r.status, r.new) for r in news.results] == [("ok", 4)]
    said = [r.getMessage() for r in caplog.records if "deadline" in r.getMessage() and r.levelname == "ERROR"]
    assert said == [f"Reddit re-check stopped early: {report.error}"]


def test_trickling_comments_end_within_the_cycle_deadline_keeping_those_fetched(
        reddit_api, server, make_config, caplog):
    names = make_posts(reddit_api, "privacy", 3, START)
    for number, name in enumerate(names):
        reddit_api.posts[name]["num_comments"] = 1
        reddit_api.add_comment(name, {"id": f"c{number}", "author": "someone_invented", "body": f"Comment {number}.",
                                      "created_utc": START.timestamp()})
    reddit_api.trickle(f"/comments/{names[1][3:]}")  # comments are fetched newest post first: the 2nd hangs
    gazette = server.route("/gazette.xml", static(GAZETTE))
    config = make_config(http={"timeout": 2.0}, feeds=[{"name": "Gazette", "url": gazette}],
                         reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}], comments=True))
    with open_monitor(config, clock=lambda: NOW, tag=relevant) as monitor:
        started = time.monotonic()
        report = monitor.collect(media={"reddit"}, cycle_deadline=DEADLINE)
        elapsed = time.monotonic() - started
        assert elapsed < 3 * DEADLINE, f"the cycle took {elapsed:.1f} s"
        assert [r.status for r in report.results] == ["ok"]
        (note,) = report.notes
        assert note.startswith("Reddit comments: 1 new from 1 relevant post(s); stopped: no answer from Reddit"
                               " within the ") and note.endswith(f"abandoned the request for the comments of {names[1]}")
        assert [r["id"] for r in rows(monitor, "SELECT id FROM items WHERE id LIKE 't1_%'")] == ["t1_c2"]

        news = monitor.collect(names=["Gazette"])  # the same app goes on collecting
        assert [(r.status, r.new) for r in news.results] == [("ok", 4)]
    said = [r.getMessage() for r in caplog.records if "abandoned the request" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("Reddit comments: no answer from Reddit within the ")

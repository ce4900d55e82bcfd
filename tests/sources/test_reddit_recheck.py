"""Honouring deletions made on Reddit: ``Monitor.recheck`` / ``monitor recheck`` ask
Reddit (/api/info, 100 per request) about recent stored posts and purge those deleted
or removed upstream. Real praw against the fake Reddit API on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

from monitor.app import open_monitor
from monitor.demo.reddit_api import Recorded, listing
from monitor.store import tags as store_tags
from monitor.store.db import write
from monitor.types import Statistic, Tags
from tests.conftest import shared_path
from tests.helpers import our_reddit_posts, reddit_section, rows

TAGS = Tags(relevant=True, score=0.9, topics=("grooming",), platforms=("snapchat",),
            statistics=(Statistic("14", 14.0, "years", "He said he was 14."),), why=("grooming near snapchat",),
            version="test-tagger")


def tag(monitor, item_id: str) -> None:
    """Tags as the tagger would have stored them."""
    with write(monitor.store.db):
        store_tags.save_tags(monitor.store.db, item_id, TAGS, datetime.now(timezone.utc))


def info_batches(api) -> list[list[str]]:
    return [parse_qs(r.query)["id"][0].split(",") for r in api.api_calls("/api/info")]


def assert_purged(monitor, item_id: str, when: str) -> None:
    row = rows(monitor, "SELECT * FROM items WHERE id = ?", [item_id])[0]
    assert {k: row[k] for k in ("title", "text", "summary_html", "url", "author", "extra", "popularity",
                                "comments", "relevant", "score", "deleted_at")} == {
        "title": "", "text": "", "summary_html": "", "url": None, "author": None, "extra": "{}",
        "popularity": None, "comments": None, "relevant": None, "score": None, "deleted_at": when}
    assert row["published_at"] and row["source_id"]  # what is left: the id, times and source
    assert rows(monitor, "SELECT * FROM item_tags WHERE item_id = ?", [item_id]) == []
    assert rows(monitor, "SELECT * FROM item_statistics WHERE item_id = ?", [item_id]) == []
    assert rows(monitor, "SELECT source_id FROM item_sources WHERE item_id = ?", [item_id])


@pytest.mark.shared
def test_recorded_posts_deleted_upstream_are_purged_on_recheck(reddit_api, make_config):
    reddit_api.load_cassette(shared_path("fixtures", "reddit", "cassettes",
                                         "asyncpraw__TestSubredditStreams.test_submissions.json"))
    now = datetime(2021, 1, 18, 1, 0, tzinfo=timezone.utc)
    config = make_config(reddit=reddit_section(reddit_api, include_nsfw=True, subreddits=[{"name": "all"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        monitor.collect(force=True)
        assert monitor.store.count_items() == 107
        tag(monitor, "t3_kzj68i")
        reddit_api.delete("t3_kzj68i")  # by its author
        reddit_api.delete("t3_kzj68x", "moderator")
        reddit_api.delete("t3_kzj64n", "author")  # the account is gone, the post stays

        report = monitor.recheck()
        assert (report.checked, report.purged, report.authors_cleared, report.error) == (107, 2, 1, None)
        assert_purged(monitor, "t3_kzj68i", "2021-01-18T01:00:00Z")
        assert_purged(monitor, "t3_kzj68x", "2021-01-18T01:00:00Z")
        kept = rows(monitor, "SELECT title, author, deleted_at FROM items WHERE id = 't3_kzj64n'")[0]
        assert kept["title"] and kept["author"] is None and kept["deleted_at"] is None
        assert monitor.store.count_items() == 107
        assert rows(monitor, "SELECT checked, purged, authors_cleared, error FROM rechecks") == [
            {"checked": 107, "purged": 2, "authors_cleared": 1, "error": None}]
    assert [len(batch) for batch in info_batches(reddit_api)] == [100, 7]


def add_posts(api, now: datetime, count: int, *, hours_ago: float = 1, first: int = 0,
              subreddit: str = "Parenting") -> list[str]:
    names = []
    for n in range(first, first + count):
        pid = f"3cd{n:04d}"
        api.add_post({"id": pid, "name": f"t3_{pid}", "title": f"Invented post {n} about Snapchat",
                      "selftext": f"Invented body {n}.", "author": f"invented_author_{n}", "subreddit": subreddit,
                      "created_utc": (now - timedelta(hours=hours_ago, minutes=n)).timestamp(),
                      "permalink": f"/r/{subreddit}/comments/{pid}/invented_post_{n}/", "url": "", "is_self": True,
                      "score": 10, "num_comments": 2, "over_18": False})
        names.append(f"t3_{pid}")
    return names


def test_our_posts_deleted_removed_or_gone_upstream_are_purged_and_stay_purged(reddit_api, make_config):
    now, posts = our_reddit_posts()
    for post in posts:
        reddit_api.add_post(post)
    old = add_posts(reddit_api, now, 2, hours_ago=24 * 8)  # older than recheck_days: never asked about
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}, {"name": "teenagers"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        stored = [r["id"] for r in rows(monitor, "SELECT id FROM items ORDER BY id")]
        assert stored == ["t3_1qz9a01", "t3_1qz9a02", "t3_1qz9a05", "t3_1qz9a06", "t3_1qz9a07", *old]
        tag(monitor, "t3_1qz9a01")
        tag(monitor, "t3_1qz9a02")
        reddit_api.delete("t3_1qz9a01")
        reddit_api.delete("t3_1qz9a02", "moderator")
        reddit_api.delete("t3_1qz9a06", "author")
        del reddit_api.posts["t3_1qz9a07"]  # Reddit no longer returns it at all

        later = now + timedelta(hours=1)
        monitor.clock = lambda: later
        report = monitor.recheck()
        assert (report.checked, report.purged, report.authors_cleared) == (5, 3, 1)
        assert info_batches(reddit_api) == [["t3_1qz9a06", "t3_1qz9a05", "t3_1qz9a02", "t3_1qz9a07", "t3_1qz9a01"]]
        for item_id in ("t3_1qz9a01", "t3_1qz9a02", "t3_1qz9a07"):
            assert_purged(monitor, item_id, "2026-03-02T13:00:00Z")
        assert rows(monitor, "SELECT author FROM items WHERE id = 't3_1qz9a06'") == [{"author": None}]
        assert rows(monitor, "SELECT COUNT(*) AS n FROM item_tags WHERE item_id IN"
                             " ('t3_1qz9a01', 't3_1qz9a02', 't3_1qz9a07')") == [{"n": 0}]

        # A stale listing that still shows a purged post does not bring its content back.
        original = next(p for p in posts if p["id"] == "1qz9a01")
        reddit_api.replay_listing("/r/Parenting/new", json.dumps(listing([original])).encode(),
                                  params={"before": monitor.store.state("reddit_subreddit:parenting").cursor.split()[0]})
        result = monitor.collect(force=True).results[0]
        assert (result.new, result.updated, result.seen) == (0, 0, 1)
        assert_purged(monitor, "t3_1qz9a01", "2026-03-02T13:00:00Z")

        # Purged posts are not asked about again.
        calls = len(reddit_api.api_calls("/api/info"))
        assert monitor.recheck().checked == 2
        assert info_batches(reddit_api)[calls:] == [["t3_1qz9a06", "t3_1qz9a05"]]


def test_recheck_asks_100_per_request_and_keeps_what_it_did_when_rate_limited(
        reddit_api, make_config, monkeypatch):
    import monitor.sources.reddit as reddit

    now = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
    newest = add_posts(reddit_api, now, 100)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}, {"name": "teenagers"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        reddit_api.delete(newest[0])  # published latest: asked about in the second batch
        reddit_api.delete(newest[-1])  # published earliest: in the first batch
        oldest_first = list(reversed(newest))
        reddit_api.reply("GET", "/api/info", Recorded(429, [("retry-after", "30")], b"too many"),
                         params={"id": ",".join(oldest_first[50:])})
        with monkeypatch.context() as patch:
            patch.setattr(reddit, "INFO_BATCH", 50)  # smaller batches make a part-way failure cheap to stage
            report = monitor.recheck()
        assert report.checked == 50 and report.purged == 1
        assert report.error == "Reddit rate limit (HTTP 429); Retry-After 30 s"
        assert_purged(monitor, newest[-1], "2026-03-02T12:00:00Z")
        assert rows(monitor, "SELECT deleted_at FROM items WHERE id = ?", [newest[0]]) == [{"deleted_at": None}]
        assert rows(monitor, "SELECT checked, purged, error FROM rechecks") == [
            {"checked": 50, "purged": 1, "error": "Reddit rate limit (HTTP 429); Retry-After 30 s"}]

        add_posts(reddit_api, now, 30, first=100, subreddit="teenagers")
        monitor.collect(force=True)
        report = monitor.recheck()  # now in Reddit's batches of 100
        assert (report.checked, report.purged, report.error) == (129, 1, None)
    assert [len(b) for b in info_batches(reddit_api)] == [50, 50, 100, 29]


def test_recheck_purges_nothing_when_reddit_returns_none_of_the_posts(reddit_api, make_config):
    now = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
    add_posts(reddit_api, now, 3)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        reddit_api.reply("GET", "/api/info", Recorded(200, [("Content-Type", "application/json")],
                                                       json.dumps(listing([])).encode()))
        report = monitor.recheck()
        assert report.purged == 0 and report.error == "Reddit returned none of the 3 posts asked about; nothing purged"
        assert rows(monitor, "SELECT COUNT(*) AS n FROM items WHERE deleted_at IS NULL AND title != ''") == [{"n": 3}]


def test_recheck_without_credentials_is_a_clear_error(reddit_api, make_config, monkeypatch):
    from monitor.errors import MonitorError

    now = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
    add_posts(reddit_api, now, 1)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        monkeypatch.delenv("REDDIT_CLIENT_ID")
        with pytest.raises(MonitorError, match="REDDIT_CLIENT_ID is not set .*; cannot re-check Reddit posts"):
            monitor.recheck()


def write_config(tmp_path, api, subreddits=("Parenting",)) -> str:
    path = tmp_path / "config.toml"
    lines = [f'[storage]\npath = "{tmp_path / "m.db"}"\n', "[schedule]\njitter = 0\n",
             f'[reddit]\nuser_agent = "python:org.example.t:0.1 (by /u/tester)"\noauth_url = "{api.base_url}"\n'
             f'reddit_url = "{api.base_url}"\n']
    lines += [f'[[reddit.subreddits]]\nname = "{name}"\n' for name in subreddits]
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def run(args, tmp_path, api, **env_changes):
    env = {k: v for k, v in os.environ.items() if k not in ("MONITOR_CONFIG", "CREDENTIALS_DIRECTORY")}
    env.update({"REDDIT_CLIENT_ID": api.client_id, "REDDIT_CLIENT_SECRET": api.client_secret, **env_changes})
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_recheck_and_stats_show_purges_and_reddit_back_off(reddit_api, tmp_path):
    now = datetime.now(timezone.utc)
    names = add_posts(reddit_api, now, 4)
    reddit_api.reply("GET", "/r/teenagers/new", Recorded(429, [("retry-after", "90")], b"<html>slow down</html>"))
    config = write_config(tmp_path, reddit_api, subreddits=("Parenting", "teenagers"))

    collect = run(["--config", config, "collect"], tmp_path, reddit_api)
    assert collect.returncode == 1  # a source failed
    assert "FAILED" in collect.stdout and "r/teenagers: Reddit rate limit (HTTP 429); Retry-After 90 s" in collect.stdout

    reddit_api.delete(names[1])
    recheck = run(["--config", config, "recheck"], tmp_path, reddit_api)
    assert recheck.returncode == 0, recheck.stderr
    assert recheck.stdout.startswith("Checked 4 Reddit post(s) published since ")
    assert "1 deleted or removed upstream and purged, 0 author(s) deleted upstream and cleared" in recheck.stdout

    stats = run(["--config", config, "stats"], tmp_path, reddit_api)
    assert stats.returncode == 0, stats.stderr
    lines = stats.stdout.splitlines()
    teen = lines.index(next(line for line in lines if line.endswith("r/teenagers")))
    assert "rate limited by Reddit, backing off until" in lines[teen + 1]
    assert "Retry-After 90 s" in lines[teen + 1]
    assert any("1 item(s) deleted upstream and purged (only ids kept)" in line for line in lines)
    assert any(line.startswith("Last Reddit deletion re-check:") and "4 post(s) checked, 1 purged" in line
               for line in lines)

    failing = run(["--config", config, "recheck"], tmp_path, reddit_api, REDDIT_CLIENT_ID="")
    assert failing.returncode == 1
    assert failing.stderr.strip() == ("error: Reddit credentials missing: REDDIT_CLIENT_ID is not set (environment"
                                      " variable or systemd credential); cannot re-check Reddit posts")


def test_a_purged_post_leaves_no_trace_in_syndication_clusters(reddit_api, make_config, server):
    from tests.conftest import DATA
    from tests.helpers import serve_files

    now = datetime(2026, 11, 3, 12, 0, tzinfo=timezone.utc)
    reddit_api.add_post({
        "id": "1zz0001", "name": "t3_1zz0001", "subreddit": "Parenting", "author": "invented_reposter",
        "title": "Police warn parents about messages on a gaming chat app",
        "selftext": "Officers in the invented town of Testbury said a man had contacted children through a"
                    " game's chat.\n\nThey asked parents to check privacy settings.",
        "created_utc": datetime(2026, 11, 3, 9, 40, tzinfo=timezone.utc).timestamp(),
        "permalink": "/r/Parenting/comments/1zz0001/police_warn_parents/", "url": "", "is_self": True,
        "score": 3, "num_comments": 1, "over_18": False})
    feeds = serve_files(server, {"Gazette": DATA / "feeds" / "ours_rss20.xml"})
    config = make_config(feeds=feeds, reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]))
    with open_monitor(config, clock=lambda: now) as monitor:
        monitor.collect()
        clustered = rows(monitor, "SELECT id, media, cluster_id FROM items WHERE cluster_id IS NOT NULL ORDER BY id")
        assert [r["media"] for r in clustered] == ["news", "reddit"]  # the repost joined the story's cluster
        assert rows(monitor, "SELECT size FROM clusters") == [{"size": 2}]

        reddit_api.delete("t3_1zz0001")
        assert monitor.recheck().purged == 1
        assert rows(monitor, "SELECT COUNT(*) AS n FROM items WHERE cluster_id IS NOT NULL") == [{"n": 0}]
        assert rows(monitor, "SELECT COUNT(*) AS n FROM clusters") == [{"n": 0}]
        assert rows(monitor, "SELECT COUNT(*) AS n FROM item_signatures WHERE item_id = 't3_1zz0001'") == [{"n": 0}]


def test_cli_recheck_gives_up_at_the_configured_deadline(reddit_api, tmp_path):
    import time

    now = datetime.now(timezone.utc)
    add_posts(reddit_api, now, 2)
    config = write_config(tmp_path, reddit_api)
    with open(config, "a", encoding="utf-8") as extra:
        extra.write("\n[http]\ntimeout = 2.0\n\n[service]\nrecheck_deadline_seconds = 2.0\n")
    assert run(["--config", config, "collect"], tmp_path, reddit_api).returncode == 0
    reddit_api.trickle("/api/info")  # Reddit answers a byte every half second
    started = time.monotonic()
    recheck = run(["--config", config, "recheck"], tmp_path, reddit_api)
    elapsed = time.monotonic() - started
    assert recheck.returncode == 1
    assert "no answer from Reddit within the re-check's 2 s deadline" in recheck.stdout + recheck.stderr
    assert elapsed < 15, f"monitor recheck took {elapsed:.0f} s"  # start-up included; unbounded without it

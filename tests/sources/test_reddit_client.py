"""The praw client's life: one per Monitor, calls that outlive their deadline, and praw's
own waits bounded. Real praw against the fake Reddit API (monitor.demo.reddit_api) on
127.0.0.1; our invented posts only."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest

from monitor.app import open_monitor
from monitor.demo.reddit_api import TOKEN_PATH, Recorded, listing
from monitor.demo.server import Reply
from monitor.errors import CollectorError
from monitor.types import Tags
from tests.helpers import reddit_section
from tests.sources.test_reddit_collect import make_posts

START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def relevant(items):
    return {item.id: Tags(relevant=True, score=1.0, version="test") for item in items}


def slow_listing(seconds: float):
    """A /r/<sub>/new that answers an empty listing after ``seconds``."""
    import json

    return lambda _request: Reply(200, {"Content-Type": "application/json"}, json.dumps(listing([])).encode(),
                                  delay=seconds)


def test_one_praw_client_and_one_token_for_cycles_comments_and_rechecks(reddit_api, make_config):
    make_posts(reddit_api, "privacy", 3, START)
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}], comments=True))
    with open_monitor(config, clock=lambda: START + timedelta(days=1), tag=relevant) as monitor:
        monitor.collect()
        make_posts(reddit_api, "privacy", 2, START, first=3)
        monitor.collect(force=True)
        report = monitor.recheck()
        assert report.checked == 5 and report.error is None
    tokens = [r for r in reddit_api.requests if r.path == TOKEN_PATH]
    assert len(tokens) == 1  # not one per cycle, per comments step and per re-check


def test_a_cycle_whose_reddit_fetch_was_abandoned_skips_the_comments_step(reddit_api, make_config, caplog):
    for name in make_posts(reddit_api, "privacy", 3, START):
        reddit_api.posts[name]["num_comments"] = 1
    for number in range(3):  # comments exist for the relevant posts
        reddit_api.add_comment(f"t3_2ab{number:04d}", {"id": f"c{number}", "author": "someone_invented",
                                                       "body": "A comment.", "created_utc": START.timestamp()})
    reddit_api.server.route("/r/slow/new", slow_listing(3.0))
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}, {"name": "slow"}],
                                               comments=True))
    with open_monitor(config, clock=lambda: START + timedelta(days=1), tag=relevant) as monitor:
        report = monitor.collect(cycle_deadline=1.0)
        assert [r.status for r in report.results] == ["ok", "failed"]
        assert "abandoned" in report.results[1].error
        assert report.notes == ["Reddit comments: not fetched this cycle (a Reddit request was abandoned at its"
                                " deadline)"]
    assert reddit_api.api_calls() and not [r for r in reddit_api.api_calls() if r.path.startswith("/comments/")]
    assert any("abandoned" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


EXIT_SCRIPT = """
import sys
from monitor.app import open_monitor
from monitor.config import load_config

with open_monitor(load_config(sys.argv[1])) as monitor:
    result = monitor.collect(cycle_deadline=1.0).results[0]
print("cycle over:", result.status, result.error, flush=True)
"""


def test_a_reddit_call_abandoned_at_its_deadline_does_not_hold_up_the_process_exit(reddit_api, tmp_path):
    # praw waits 10 s for an answer that takes 30, three times (prawcore retries timeouts): the
    # cycle gives up after 1 s, and the process must then exit, not wait for praw.
    reddit_api.server.route("/r/slow/new", slow_listing(30.0))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "{tmp_path / "m.db"}"\n\n[http]\ntimeout = 10.0\n\n[reddit]\n'
        f'user_agent = "python:org.example.t:0.1 (by /u/tester)"\n'
        f'oauth_url = "{reddit_api.base_url}"\nreddit_url = "{reddit_api.base_url}"\n\n'
        '[[reddit.subreddits]]\nname = "slow"\n', encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "REDDIT_CLIENT_ID": reddit_api.client_id,
           "REDDIT_CLIENT_SECRET": reddit_api.client_secret, "MONITOR_HASH_KEY": "k" * 32}
    try:
        done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, str(config)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the process did not exit after its cycle: {hung.stdout!r}")
    assert done.returncode == 0, done.stderr
    assert "cycle over: failed" in done.stdout and "abandoned" in done.stdout


def test_a_used_up_rate_limit_window_fails_the_sources_instead_of_sleeping_in_praw(reddit_api, make_config):
    import json

    make_posts(reddit_api, "privacy", 2, START)
    # r/first's answer says: no requests left for 12 s. prawcore would sleep that long before the next.
    body = json.dumps(listing([])).encode()
    reddit_api.reply("GET", "/r/first/new", Recorded(200, [("Content-Type", "application/json"),
                                                           ("x-ratelimit-remaining", "0"),
                                                           ("x-ratelimit-used", "600"),
                                                           ("x-ratelimit-reset", "12")], body))
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "first"}, {"name": "privacy"}]))
    now = START + timedelta(days=1)
    with open_monitor(config, clock=lambda: now) as monitor:
        first, second = monitor.collect().results
        assert first.status == "ok"
        assert second.status == "failed" and "rate limit" in second.error
        state = monitor.store.state(second.source.id)
        assert state.next_due_at >= now + timedelta(seconds=12)
    assert not reddit_api.api_calls("/r/privacy/new")  # not requested at all: it is tried after the reset


def test_a_busy_client_fails_a_second_caller_after_its_bounded_wait(reddit_api, make_config):
    from monitor.sources.reddit import RedditClient, RedditCredentials

    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "privacy"}]))
    client = RedditClient(config.reddit, RedditCredentials(reddit_api.client_id, reddit_api.client_secret),
                          lock_wait=0.2)
    holding, release = threading.Event(), threading.Event()

    def abandoned_call() -> None:
        with client.locked("for r/privacy"):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=abandoned_call, daemon=True)
    thread.start()
    holding.wait(5)
    try:
        with pytest.raises(CollectorError, match="an earlier Reddit request that outlived its deadline is still"
                                                 " running"):
            with client.locked("for the deletion re-check"):
                pass
        client.lock_wait = 60  # the next caller does not wait again while the same call runs on
        with pytest.raises(CollectorError, match="not tried for r/teenagers: an earlier Reddit request"):
            with client.locked("for r/teenagers"):
                pass
        assert not release.is_set() and thread.is_alive()
    finally:
        release.set()
        thread.join(5)
    with client.locked("for the deletion re-check"):  # free again once the call ends
        pass

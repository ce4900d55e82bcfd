"""``monitor digest`` from the command line: what it prints, --send once per date, errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from tests.conftest import REPO
from tests.digest.conftest import write_newsroom_config


def run(args: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_digest_builds_prints_where_it_is_and_sends_once(newsroom_app, smtp_server, tmp_path):
    with newsroom_app():  # the newsroom database in tmp_path
        pass
    config = write_newsroom_config(tmp_path, smtp_server.port)
    day = date.today() - timedelta(days=1)  # the CLI runs on the real clock: a day that has ended

    built = run(["--config", str(config), "digest", "--date", "2026-11-28", "--out", str(tmp_path / "preview")])
    assert built.returncode == 0, built.stderr
    lines = built.stdout.splitlines()
    assert lines[0].startswith("Digest for Saturday 28 November 2026: Fri 27 Nov 07:30 to Sat 28 Nov 07:30"
                               " (Europe/London)")
    assert "14 relevant items, 7 top stories" in lines[1] and "1 not yet tagged" in lines[1]
    html = Path(re.search(r"HTML:\s+(\S+)", built.stdout).group(1))
    assert html == tmp_path / "archive" / "2026-11-28" / "digest.html" and html.exists()
    assert (tmp_path / "preview" / "digest.html").read_bytes() == html.read_bytes()
    assert smtp_server.received == []  # building never sends

    first = run(["-v", "--config", str(config), "digest", "--date", day.isoformat(), "--send"])
    assert first.returncode == 0, first.stderr
    assert "Sent to campaigns@campaign.test; Message-ID <digest-" in first.stdout
    assert first.stderr.count(f"built the digest for {day}") == 1  # built once, and that digest sent
    second = run(["--config", str(config), "digest", "--date", day.isoformat(), "--send"])
    assert second.returncode == 0, second.stderr
    assert "Already sent" in second.stdout and "not sending it again (--force sends anyway)" in second.stdout
    assert len(smtp_server.received) == 1


def test_send_force_from_the_command_line_sends_a_date_already_sent_again(newsroom_app, smtp_server, tmp_path):
    with newsroom_app():  # the newsroom database in tmp_path
        pass
    config = write_newsroom_config(tmp_path, smtp_server.port)
    day = (date.today() - timedelta(days=1)).isoformat()
    first = run(["--config", str(config), "digest", "--date", day, "--send"])
    assert first.returncode == 0, first.stderr
    first_id = re.search(r"^Sent to campaigns@campaign.test; Message-ID (<\S+>)$", first.stdout, re.MULTILINE).group(1)

    forced = run(["--config", str(config), "digest", "--date", day, "--send", "--force"])
    assert forced.returncode == 0, forced.stderr
    assert "Already sent" not in forced.stdout
    forced_id = re.search(r"^Sent to campaigns@campaign.test; Message-ID (<\S+>)$", forced.stdout,
                          re.MULTILINE).group(1)
    assert forced_id != first_id  # a deliberate second copy, not one a mail server would drop as a duplicate
    assert [r.message["Message-ID"] for r in smtp_server.received] == [first_id, forced_id]
    assert all(r.recipients == ["campaigns@campaign.test"] for r in smtp_server.received)

    after = run(["--config", str(config), "digest", "--date", day, "--send"])  # without --force: once is enough
    assert "Already sent" in after.stdout and len(smtp_server.received) == 2


def test_digest_options_are_checked(tmp_path):
    config = write_newsroom_config(tmp_path)
    force = run(["--config", str(config), "digest", "--force"])
    assert force.returncode == 2 and "--force only applies with --send" in force.stderr
    bad = run(["--config", str(config), "digest", "--date", "28/11/2026"])
    assert bad.returncode == 2 and "'28/11/2026' is not a date as YYYY-MM-DD" in bad.stderr


def test_send_without_email_settings_is_one_clear_error(newsroom_app, tmp_path):
    with newsroom_app():  # the newsroom database in tmp_path
        pass
    config = write_newsroom_config(tmp_path)
    result = run(["--config", str(config), "digest", "--date", (date.today() - timedelta(days=1)).isoformat(),
                  "--send"])
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: cannot send mail: set email.sender and email.recipients in the"
                                     " configuration")


def test_a_missing_database_is_an_error_and_none_is_created(tmp_path):
    """Run in the wrong directory (the default [storage] path, db/monitor.db, is relative),
    `monitor digest` must not create an empty database and report all sources working."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "config.toml").write_text(
        '[[feeds]]\nname = "Northshire Gazette"\nurl = "https://northshire-gazette.test/feed.xml"\n', "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    result = subprocess.run([sys.executable, "-m", "monitor", "--config", str(tmp_path / "etc" / "config.toml"),
                             "digest"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no database at db/monitor.db: run `monitor collect` (or `monitor demo`) first"
    assert result.stdout == "" and list(elsewhere.iterdir()) == []

    config = write_newsroom_config(tmp_path)
    named = run(["--config", str(config), "digest", "--send"])
    assert named.returncode == 1 and f"error: no database at {tmp_path / 'monitor.db'}:" in named.stderr
    assert not (tmp_path / "monitor.db").exists() and not (tmp_path / "archive").exists()


def test_a_day_that_has_not_started_is_refused(newsroom_app, tmp_path):
    with newsroom_app():
        pass
    config = write_newsroom_config(tmp_path)
    later = date.today() + timedelta(days=30)
    result = run(["--config", str(config), "digest", "--date", later.isoformat()])
    assert result.returncode == 1
    before = later - timedelta(days=1)
    assert result.stderr.strip() == (f"error: the digest for {later} covers the day from 07:30 on {before}"
                                     " (Europe/London), which has not started yet")
    assert not (tmp_path / "archive" / later.isoformat()).exists()

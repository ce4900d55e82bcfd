"""`monitor doctor`: one line per check, OK or what to do; writes nothing; never shows a secret."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main
from monitor.config import load_config
from monitor.demo.server import Reply, static
from monitor.doctor import check_credentials, run_checks
from monitor.notify import Notifier
from monitor.service import Service
from monitor.types import utcnow
from tests.conftest import DATA
from tests.servicetools import fast_sections, query, wait_until, write_config

GAZETTE = (DATA / "feeds" / "ours_rss20.xml").read_bytes()  # 4 items, written for the tests


def doctor(config: Path, *args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["--config", str(config), "doctor", *args])
    return result.exit_code, result.output.splitlines()


def test_an_invalid_config_is_the_only_thing_reported(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[service]\ntick_seconds = "often"\nmaintenance_time = "25:00"\n', encoding="utf-8")
    code, lines = doctor(config)
    assert code == 1
    assert lines[:2] == [f"FAIL  config: {config}: service.tick_seconds: expected a number, got str 'often'",
                         f"FAIL  config: {config}: service.maintenance_time: must be a time of day as HH:MM"]
    assert lines[2:] == ["2 problem(s) found."]


def test_before_the_first_run_it_says_what_to_do_and_creates_nothing(tmp_path):
    db = tmp_path / "state" / "monitor.db"
    config = write_config(tmp_path / "config.toml", fast_sections(db),
                          [{"name": "Gazette", "url": "http://127.0.0.1:9/feed.xml"}])
    code, lines = doctor(config)
    assert code == 1
    assert lines[0] == f"OK    config: {config} is valid (1 feeds, 0 queries)"
    assert "OK    credentials: none needed by this configuration" in lines
    assert any(line.startswith("OK    disk: ") and "GB free" in line for line in lines)
    assert f"FAIL  database: no database at {db} yet: start the service (systemctl start monitor) or run " \
           "`monitor collect`" in lines
    assert not db.exists() and not db.parent.exists()


def test_after_the_service_ran_it_reports_each_part_and_each_source(server, tmp_path):
    good = server.route("/good.xml", static(GAZETTE))
    bad = server.route("/bad.xml", lambda _r: Reply(503, {"Content-Type": "text/plain"}, b"down"))
    db = tmp_path / "monitor.db"
    config_path = write_config(tmp_path / "config.toml",
                               fast_sections(db, schedule={"interval_minutes": 30.0}),
                               [{"name": "Good", "url": good}, {"name": "Bad", "url": bad}])
    service = Service(load_config(config_path), notifier=Notifier(environ={}))
    service.start()
    try:
        wait_until(lambda: query(db, "SELECT COUNT(*) FROM runs") == [(2,)], 20, "both sources polled")
        wait_until(lambda: query(db, "SELECT COUNT(*) FROM maintenance_runs") == [(1,)], 20, "maintenance")
        code, lines = doctor(config_path)  # while the service runs
    finally:
        assert service.stop()
    text = "\n".join(lines)
    assert code == 0, text  # one failure in a row is a warning, not yet a problem
    assert f"OK    database: {db} opens and is migrated (4 items)" in lines
    assert "OK    integrity: PRAGMA integrity_check: ok" in lines
    assert any(line.startswith("OK    service: last collection check ") and "0 job errors" in line
               for line in lines), text
    assert any(line.startswith("OK    maintenance: last run ") for line in lines), text
    assert any(line.startswith(f"OK    backups: 1 in {tmp_path / 'backups'}, newest monitor-") for line in lines)
    assert any(line.startswith("OK    source Good: last success ") and "next poll in 30 min" in line
               for line in lines), text
    assert any(line.startswith("WARN  source Bad: 1 failure(s) in a row, last: HTTP 503 Service Unavailable")
               for line in lines), text
    assert lines[-1] == "No problems found."

    code, lines = doctor(config_path, "--network")
    assert code == 1
    assert "OK    network Good: 4 items in " in "\n".join(lines)
    assert any(line.startswith("FAIL  network Bad: HTTP 503 Service Unavailable: check the URL") for line in lines)
    assert len(query(db, "SELECT * FROM runs")) == 2  # the network check stored nothing

    # Hours later with no sign of the service: it says where to look.
    checks = list(run_checks(config_path, now=utcnow() + timedelta(hours=3)))
    service_line = next(c for c in checks if c.area == "service")
    assert service_line.status == "fail" and "systemctl status monitor" in service_line.message


def test_a_database_from_an_older_version_is_reported_as_needing_migration(tmp_path):
    from monitor.store.db import connect
    from monitor.store.schema import migrations

    db_path = tmp_path / "monitor.db"
    db = connect(db_path)
    migrations.apply(db, stop_before="0008_service")
    pending = [m.name for m in migrations.pending(db)]  # 0008_service and any added after it
    db.conn.close()
    assert pending[0] == "0008_service"
    config = write_config(tmp_path / "config.toml", fast_sections(db_path), [])
    code, lines = doctor(config)
    assert code == 0
    assert any(line.startswith(f"WARN  database: {db_path} lacks {len(pending)} migration(s) ({', '.join(pending)}):"
                               " they are applied when the service restarts") for line in lines), lines
    assert any(line.startswith("WARN  config:") and "no sources configured" in line for line in lines)
    assert query(db_path, "SELECT COUNT(*) FROM _sqlite_migrations WHERE name = '0008_service'") == [(0,)]


def test_credentials_are_reported_present_or_missing_but_never_shown(tmp_path, monkeypatch, make_config):
    for name in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "CREDENTIALS_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    reddit = {"user_agent": "python:org.example.monitor-tests:0.1 (by /u/monitor_tests)",
              "subreddits": [{"name": "Parenting"}]}
    # Reddit's credentials are needed only when Reddit sources are configured.
    assert [c.line() for c in check_credentials(make_config(reddit={**reddit, "subreddits": []}))] == [
        "OK    credentials: none needed by this configuration"]
    config = make_config(reddit=reddit)
    monkeypatch.setenv("REDDIT_CLIENT_ID", "s3cr3t-client-id")
    store = tmp_path / "store"  # stands in for /etc/monitor/credentials
    lines = [c.line() for c in check_credentials(config, store)]
    assert lines == [
        "OK    credentials: REDDIT_CLIENT_ID (for reddit.client_id_env) is present",
        f"FAIL  credentials: REDDIT_CLIENT_SECRET (for reddit.client_secret_env) is not set: put it in "
        f"{store}/REDDIT_CLIENT_SECRET (LoadCredential= in the unit) or in the environment"]
    # Root in a shell sees the unit's credential store, and says so.
    store.mkdir()
    (store / "REDDIT_CLIENT_SECRET").write_text("stored-s3cr3t\n")
    lines = [c.line() for c in check_credentials(config, store)]
    assert lines[1] == f"OK    credentials: REDDIT_CLIENT_SECRET (for reddit.client_secret_env) is present in {store}"
    # The service's own view: a systemd credential file, found first.
    (store / "REDDIT_CLIENT_SECRET").unlink()
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "REDDIT_CLIENT_SECRET").write_text("another-s3cr3t\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    lines += [c.line() for c in check_credentials(config, store)]
    assert lines[-1] == "OK    credentials: REDDIT_CLIENT_SECRET (for reddit.client_secret_env) is present"
    assert not any("s3cr3t" in line for line in lines)


def test_the_network_check_fetches_parliament_and_social_sources_and_stores_nothing(
        hansard_api, mastodon_instances, bluesky_api, make_config, monkeypatch):
    from datetime import datetime, timezone

    from monitor.doctor import check_network
    from tests.helpers import our_data

    for result in our_data("parliament", "ours_contributions.json")["results"]:
        hansard_api.add(result)
    instance, _other = mastodon_instances
    for status in our_data("mastodon", "ours_statuses.json")["statuses"]:
        instance.add_status(status)
    for post in our_data("bluesky", "ours_posts.json")["posts"]:
        bluesky_api.add_post(post)
    sections = dict(hansard={"api_url": hansard_api.base_url, "lookback_days": 400, "searches": [{"query": "grooming"}]},
                    mastodon={"hashtags": [{"instance": instance.base_url, "tag": "OnlineSafety"}]},
                    bluesky={"api_url": bluesky_api.base_url, "searches": [{"query": "grooming"}]})
    config = make_config(**sections)
    now = datetime(2026, 3, 12, 9, tzinfo=timezone.utc)
    lines = sorted(check.line() for check in check_network(config, now))
    assert lines[0].startswith("OK    network Bluesky search: grooming: 5 items in ")
    assert lines[1].startswith("OK    network Hansard: grooming: ")
    assert lines[2].startswith(f"OK    network Mastodon #OnlineSafety on {instance.host}: 3 items in ")
    assert not (Path(config.storage.path).exists() or Path(f"{config.storage.path}.hash-key").exists())
    monkeypatch.delenv("BLUESKY_HANDLE")
    (bluesky,) = [c.line() for c in check_network(config, now) if "Bluesky" in c.line()]
    assert bluesky.startswith("FAIL  network Bluesky search: grooming: Bluesky credentials missing: BLUESKY_HANDLE")

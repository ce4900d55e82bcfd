"""`monitor alerts` (the listing), `monitor alerts test RULE` (a dry run) and `monitor alerts run`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from monitor.app import open_monitor
from monitor.cli import main
from monitor.config import load_config
from monitor.types import utcnow
from tests.alerts.history import History

RULES = """
[[alerts.rules]]
name = "Snapchat grooming"
topics = ["grooming"]
platforms = ["snapchat"]

[[alerts.rules]]
name = "Ofcom"
organisations = ["ofcom"]
channel = "webhook"
"""


def setup(folder: Path) -> Path:
    """Three Snapchat grooming stories over the last days (one carried by two outlets), one
    of them collected just now, and an Instagram story; the rule check has run once."""
    path = folder / "config.toml"
    path.write_text(f'[storage]\npath = "{folder / "monitor.db"}"\n\n[digest]\ntimezone = "Europe/London"\n\n'
                    f'[alerts]\nspikes = false\nsource_health = false\n{RULES}', encoding="utf-8")
    now = utcnow()
    old = History(folder / "monitor.db", now - timedelta(days=3), prefix="old")
    old.add("Wirecast", now - timedelta(days=3), topics=["grooming"], platforms=["snapchat"],
            title="Older Snapchat grooming story", cluster="older")
    old.add("Harbourton Echo", now - timedelta(days=3, minutes=-20), topics=["grooming"], platforms=["snapchat"],
            title="Older Snapchat grooming story - Harbourton Echo", cluster="older")
    old.add("Wirecast", now - timedelta(days=2), topics=["grooming"], platforms=["snapchat"],
            title="Second Snapchat grooming story")
    old.add("Wirecast", now - timedelta(days=2), topics=["grooming"], platforms=["instagram"],
            title="An Instagram grooming story")
    old.add("Wirecast", now - timedelta(days=9), topics=["grooming"], platforms=["snapchat"],
            title="A story from last month")
    old.flush()
    old.close()
    new = History(folder / "monitor.db", now, prefix="new")
    new.add("Wirecast", now - timedelta(minutes=5), topics=["grooming"], platforms=["snapchat"],
            title="Newest Snapchat grooming story")
    new.flush()
    new.close()
    with open_monitor(load_config(path)) as monitor:
        created = monitor.run_alerts(send=False).created
    assert [a.title for a in created] == ['Priority rule "Snapchat grooming": new story']
    return path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_alerts_test_prints_what_a_rule_would_have_sent(tmp_path):
    config = setup(tmp_path)
    result = invoke("--config", str(config), "alerts", "test", "snapchat GROOMING", "--days", "7")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith('Rule "Snapchat grooming" (topic Grooming; platform Snapchat), by email, over 7 day(s):')
    assert "5 item(s) checked; 3 alerts would have been sent." in out
    assert out.count("--- ") == 3 and "--- 1 of 3 ---" in out and "--- 3 of 3 (alerted) ---" in out
    assert 'Subject: Alert: Priority rule "Snapchat grooming": new story carried by 2 outlets' in out
    older = out.index("Older Snapchat grooming story")
    assert "also Harbourton Echo" in out[older:]  # the copy is a link under its story, not an alert of its own
    assert "Instagram" not in out and "last month" not in out
    assert CliRunner().invoke(main, ["--config", str(config), "alerts"]).exit_code == 0  # nothing was recorded
    assert len(load_rows(config)) == 1


def load_rows(config: Path) -> list:
    with open_monitor(load_config(config)) as monitor:
        return monitor.alerts()


def test_alerts_test_names_the_rules_when_the_name_is_wrong(tmp_path):
    config = setup(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "alerts", "test", "Snapchat"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: no alert rule named 'Snapchat' (rules: 'Snapchat grooming', 'Ofcom')"


def test_alerts_lists_recorded_alerts_since_a_time(tmp_path):
    config = setup(tmp_path)
    result = invoke("--config", str(config), "alerts")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("1 alert since ") and lines[0].endswith("(Europe/London), newest first")
    assert lines[1].split()[2:] == ["rule", "email", "pending", "Priority", "rule", '"Snapchat', 'grooming":', "new",
                                    "story", "[1", "story]"]
    assert invoke("--config", str(config), "alerts", "--since", "2h").output.startswith("1 alert since")
    future = invoke("--config", str(config), "alerts", "--since", "2099-01-01")
    assert future.output.startswith("0 alerts since 2099-01-01 00:00")
    bad = CliRunner().invoke(main, ["--config", str(config), "alerts", "--since", "yesterday"])
    assert bad.exit_code == 2 and "is not a duration (24h, 7d) or a date" in bad.output


def test_alerts_run_reports_a_delivery_that_failed(tmp_path):
    config = setup(tmp_path)  # no [email] section: the pending alert cannot go out
    result = CliRunner().invoke(main, ["--config", str(config), "alerts", "run"])
    assert result.exit_code == 1
    assert result.stdout.strip() == ("Alerts: none new; NOT SENT (email: cannot send mail: set email.sender and"
                                     " email.recipients in the configuration), retried next cycle")
    assert result.stderr.count("\n") == 1 and "alert delivery by email failed" in result.stderr  # one log line
    listing = invoke("--config", str(config), "alerts").output
    assert "PENDING" in listing and "1 attempt(s); last error: cannot send mail" in listing

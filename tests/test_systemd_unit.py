"""systemd/monitor.service: what the service relies on is in the unit, `systemd-analyze
verify` prints nothing and `security` scores an exposure of 1.5 or lower (skipped,
saying so, where systemd-analyze is not installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

UNIT = REPO / "systemd" / "monitor.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")


def settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_has_what_the_service_relies_on():
    unit = settings()
    assert unit["Type"] == ["notify"] and unit["NotifyAccess"] == ["main"]
    assert int(unit["WatchdogSec"][0]) >= 60
    assert unit["Restart"] == ["on-failure"]
    assert unit["RestartPreventExitStatus"] == ["2"]  # a config error is not fixed by restarting
    assert unit["DynamicUser"] == ["yes"] and unit["StateDirectory"] == ["monitor"]
    # sd_notify needs AF_UNIX; collecting needs the internet.
    assert set(unit["RestrictAddressFamilies"][0].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    # The service must be gone before systemd's stop timeout: we promise 10 s.
    assert int(unit["TimeoutStopSec"][0]) > 10
    assert unit["ExecStart"] == ["/opt/monitor/bin/monitor --config /etc/monitor/config.toml run"]
    credentials = {value.split(":", 1)[0] for value in unit["LoadCredential"]}
    assert credentials >= {"REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "MONITOR_SMTP_PASSWORD",
                           "MONITOR_ALERT_WEBHOOK_URL"}
    assert all(value.split(":", 1)[1] == f"/etc/monitor/credentials/{value.split(':', 1)[0]}"
               for value in unit["LoadCredential"])


@needs_analyze
def test_systemd_analyze_verify_prints_nothing(tmp_path):
    # verify insists that ExecStart's binary exists: check a copy pointing at this checkout's command.
    command = Path(sys.executable).with_name("monitor")
    if not command.exists():
        pytest.skip(f"no installed `monitor` command next to {sys.executable}")
    copy = tmp_path / "monitor.service"
    copy.write_text(UNIT.read_text(encoding="utf-8").replace("/opt/monitor/bin/monitor", str(command)),
                    encoding="utf-8")
    result = subprocess.run([ANALYZE, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.stdout + result.stderr == ""
    assert result.returncode == 0


@needs_analyze
def test_systemd_analyze_security_scores_1_5_or_lower():
    result = subprocess.run([ANALYZE, "security", "--offline=true", str(UNIT)], capture_output=True, text=True,
                            timeout=60)
    match = re.search(r"Overall exposure level for monitor\.service: ([0-9.]+)", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 1.5

"""The archived HTML digest rendered by a real browser (headless Chromium): every section
is there, and the chart image and the masthead were actually painted.

Set MONITOR_KEEP_SCREENSHOTS=DIR to keep the screenshot for a look.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.digest.conftest import open_newsroom

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="needs Debian's chromium (/usr/bin/chromium; .ci/run installs it)")


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          timeout=120, check=True)


@pytest.fixture(scope="module")
def rendered(newsroom_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    with open_newsroom(newsroom_template, folder) as app:
        built = app.build_digest()
    url = built.html_path.resolve().as_uri()
    shot = folder / "digest.png"
    dom = chromium(folder / "profile", f"--screenshot={shot}", "--dump-dom", "--window-size=1000,3000",
                   url).stdout.decode("utf-8")
    keep = os.environ.get("MONITOR_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "digest.png")
    return built, shot, dom


def test_the_browser_renders_every_section(rendered):
    _built, _shot, dom = rendered
    for section, heading in [("headline", "Relevant items"), ("chart", "The last 28 days"),
                             ("stories", "Top stories"), ("platforms", "Platforms"), ("legislation", "Legislation"),
                             ("figures", "Figures quoted today"), ("reddit", "On Reddit"),
                             ("parliament", "In Parliament"),
                             ("health", "Source health")]:
        assert f'id="{section}"' in dom, section
        assert heading in dom, heading
    assert "Sextortion reports involving teenage boys rise sharply, NCA says" in dom
    assert "carried by 4 outlets" in dom


def test_the_screenshot_shows_the_masthead_and_the_chart(rendered):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.image import imread

    _built, shot, _dom = rendered
    pixels = (imread(shot)[:, :, :3] * 255).round().astype("int16")
    assert pixels.shape[:2] == (3000, 1000)

    def count(rgb: tuple[int, int, int], tolerance: int = 12) -> int:
        """Pixels within ``tolerance`` of colour ``rgb``."""
        return int((abs(pixels - rgb) <= tolerance).all(axis=2).sum())

    assert count((0x1F, 0x2A, 0x44)) > 20_000  # the navy masthead was painted
    assert count((0xD5, 0x5E, 0x00)) > 150  # the chart's grooming line: the inline image loaded
    assert count((0xFF, 0xFF, 0xFF)) > 500_000  # a white page, not an error screen

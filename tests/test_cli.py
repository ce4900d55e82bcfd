"""The command line: help for every command, fast start-up, collect/stats/demo output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from monitor.cli import main
from tests.conftest import DATA, REPO
from tests.helpers import serve_files

HEAVY = {"spacy", "praw", "prawcore", "feedparser", "aiohttp", "httpx", "sqlite_utils", "matplotlib", "apscheduler", "jinja2"}


def all_commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append(prefix + (name,))
        if isinstance(command, click.Group):
            found += all_commands(command, prefix + (name,))
    return found


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p))
def test_every_command_has_help_that_says_what_it_does(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    description = result.output.split("\n\n", 2)[1].strip()
    assert len(description) > 30, f"`monitor {' '.join(path)} --help` needs a description"


def test_readme_documents_every_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for path in all_commands():
        assert f"monitor {' '.join(path)}" in readme, f"README does not mention `monitor {' '.join(path)}`"


def test_help_imports_no_heavy_library():
    code = "import sys; from monitor.cli import main; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                cwd=REPO).stdout.split())
    assert not (loaded & HEAVY), f"`monitor --help` imports {sorted(loaded & HEAVY)}"


def write_config(tmp_path: Path, feeds: list[dict]) -> Path:
    lines = [f'[storage]\npath = "{tmp_path / "m.db"}"\n', "[schedule]\njitter = 0\n"]
    for feed in feeds:
        lines.append(f'[[feeds]]\nname = "{feed["name"]}"\nurl = "{feed["url"]}"\n')
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_collect_prints_a_line_per_source_and_stats_shows_the_last_run(server, tmp_path):
    feeds = serve_files(server, {"Gazette": DATA / "feeds" / "ours_rss20.xml",
                                 "Broken": DATA / "feeds" / "ours_truncated.xml"})
    config = write_config(tmp_path, feeds)
    result = run(["--config", str(config), "collect"], tmp_path)
    assert result.returncode == 1  # one source failed
    lines = result.stdout.splitlines()
    assert any(re.match(r"ok\s+4 new\s+0 updated\s+0 seen\s+Gazette$", line) for line in lines), lines
    assert any(line.startswith("FAILED") and "Broken: not a usable feed: broken XML" in line for line in lines)
    assert "2 sources: 1 ok, 0 not modified, 1 failed; 4 new, 0 updated items" in lines
    assert result.stderr.count("\n") == 1 and "Broken" in result.stderr  # one log line for the failure

    again = run(["--config", str(config), "collect", "--source", "gazette"], tmp_path)
    assert again.returncode == 0 and "not modified" in again.stdout and "Broken" not in again.stdout

    stats = run(["--config", str(config), "stats"], tmp_path)
    assert stats.returncode == 0
    gazette = next(line for line in stats.stdout.splitlines() if line.endswith("Gazette"))
    assert gazette.split()[0] == "4" and "not modified" in gazette
    assert "1 consecutive failure(s), backing off until" in stats.stdout


def test_stats_shows_a_gone_source_as_gone_until_its_url_is_fixed(server, tmp_path):
    from monitor.demo.server import Reply, static

    server.route("/old-rss.xml", lambda _r: Reply(410, {}, b""))
    server.route("/new-rss.xml", static((DATA / "feeds" / "ours_rss20.xml").read_bytes()))
    config = write_config(tmp_path, [{"name": "Gazette", "url": server.url("/old-rss.xml")}])
    collect = run(["--config", str(config), "collect"], tmp_path)
    assert collect.returncode == 1 and "Gazette: HTTP 410 Gone" in collect.stdout

    stats = run(["--config", str(config), "stats"], tmp_path)
    assert stats.returncode == 0
    lines = stats.stdout.splitlines()
    gazette = next(i for i, line in enumerate(lines) if line.endswith("Gazette"))
    assert lines[gazette].split()[0] == "0" and "FAILED" in lines[gazette]
    assert re.fullmatch(r"\s+gone since \S+Z: the server answered 410; fix or remove its URL", lines[gazette + 1])
    assert "backing off" not in stats.stdout  # gone is not a back-off: it is not polled at all

    config = write_config(tmp_path, [{"name": "Gazette", "url": server.url("/new-rss.xml")}])
    again = run(["--config", str(config), "collect"], tmp_path)
    assert again.returncode == 0 and re.search(r"^ok\s+4 new .* Gazette$", again.stdout, re.MULTILINE), again.stdout
    stats = run(["--config", str(config), "stats"], tmp_path)
    assert "gone since" not in stats.stdout
    assert len(server.requests_to("/old-rss.xml")) == 1


def test_collect_unknown_source_is_a_one_line_error(tmp_path):
    config = write_config(tmp_path, [{"name": "Gazette", "url": "https://gazette.test/rss"}])
    result = run(["--config", str(config), "collect", "--source", "Nope"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no source named 'Nope' (sources: Gazette)"


def test_demo_collects_the_invented_corpus_offline(tmp_path):
    result = run(["demo", "--db", str(tmp_path / "demo.db")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Serving 12 invented demo feeds on http://127.0.0.1:" in result.stdout
    assert "Serving 40 invented Reddit posts through a fake Reddit API on http://127.0.0.1:" in result.stdout
    assert "Serving 8 invented Hansard contributions through a fake Hansard API on http://127.0.0.1:" in result.stdout
    assert "Serving 6 invented Mastodon posts on two fake instances" in result.stdout
    assert "Serving 5 invented Bluesky posts through a fake Bluesky API on http://127.0.0.1:" in result.stdout
    summary = next(line for line in result.stdout.splitlines() if line.startswith("36 sources:"))
    assert "36 ok" in summary and "0 failed" in summary
    hansard_new = [int(n) for n in re.findall(r"^ok\s+(\d+) new .* Hansard: ", result.stdout, re.MULTILINE)]
    assert len(hansard_new) == 3 and sum(hansard_new) == 8  # searches share contributions: each stored once
    assert re.search(r"^ok\s+\d+ new .* Mastodon #OnlineSafetyAct on 127\.0\.0\.1:\d+$", result.stdout, re.MULTILINE)
    assert re.search(r"^ok\s+\d+ new .* Bluesky search: online grooming$", result.stdout, re.MULTILINE)
    assert re.search(r"^ok\s+6 new .* r/Parenting$", result.stdout, re.MULTILINE)
    assert "Reddit search: grooming instagram (r/all)" in result.stdout
    stored = int(re.search(r"(\d+) items stored", result.stdout).group(1))
    assert stored > 100
    # the digest of the day that just ended, built from the fresh database, ready to open
    lines = result.stdout.splitlines()
    uri = lines[lines.index("Open the digest in a browser:") + 1].strip()
    html = Path(uri.removeprefix("file://"))
    assert html.parent.parent == (tmp_path / "demo-digest").resolve() and html.name == "digest.html"
    page = html.read_text(encoding="utf-8")
    assert "Top stories" in page and "Source health" in page
    text = (html.parent / "digest.txt").read_text(encoding="utf-8")
    collected = int(re.search(r"([\d,]+) items collected in all", text).group(1).replace(",", ""))
    assert 20 < collected < stored  # the newest day of the corpus, not all of it
    assert "All 36 sources are working normally." in text
    parliament = text[text.index("== In Parliament =="):text.index("== Platforms ==")]
    assert "-- Online Grooming of Children --" in parliament and "* Helen Marlowe (Lab)" in parliament
    assert "-- Online Safety Act 2023: Children's Codes --" in parliament  # sat the day before, collected today
    assert "Pet Grooming" not in parliament and "Succession" not in parliament  # the tagger's noise
    # the demo's priority rule posted its alerts (sextortion on Snapchat) to the demo's own chat webhook, once
    alerts = re.search(r"^Alerts: (\d+) new \(\1 from priority rules\); \1 sent in 1 message by webhook$", result.stdout,
                       re.MULTILINE)
    assert alerts and int(alerts.group(1)) >= 3, result.stdout
    posted = re.search(r'^Alerts posted to the demo\'s chat webhook by the rule "Sextortion on Snapchat": (\d+) stories'
                       r" in 1 message\(s\)$", result.stdout, re.MULTILINE)
    assert posted and posted.group(1) == alerts.group(1), result.stdout
    assert re.search(r"^  • Sextortion reports involving teenage boys rise sharply, NCA says \(.*, 4 outlets\)$",
                     result.stdout, re.MULTILINE), result.stdout

    import sqlite3

    from monitor.demo.corpus import load_corpus

    corpus = load_corpus()["reddit"]
    with sqlite3.connect(tmp_path / "demo.db") as db:
        reddit = db.execute("SELECT id, author_hash, subreddit FROM reddit_posts").fetchall()
    assert len(reddit) == len([p for p in corpus if not p["over_18"]])  # NSFW posts skipped
    assert {row[2] for row in reddit} == {p["subreddit"] for p in corpus}
    authors = {p["author"] for p in corpus}
    assert all(row[1] and row[1] not in authors for row in reddit)  # usernames hashed

    with sqlite3.connect(tmp_path / "demo.db") as db:
        parliament = db.execute("SELECT member, debate, relevant FROM hansard_contributions").fetchall()
        social = db.execute("SELECT network, author_hash, relevant FROM social_posts").fetchall()
        shared = db.execute("SELECT COUNT(*) FROM item_sources s JOIN items i ON i.id = s.item_id"
                            " WHERE i.media = 'social' GROUP BY i.id HAVING COUNT(*) > 1").fetchall()
    assert len(parliament) == 8  # each contribution once, however many searches found it
    relevant = {debate for _member, debate, flag in parliament if flag}
    assert relevant == {"Online Grooming of Children", "Online Safety Act 2023: Children's Codes"}  # not pet grooming
    assert {row[0] for row in social} == {"mastodon", "bluesky"}
    assert len(social) == 8  # the sensitive and opted-out posts are skipped
    assert shared  # posts federated to both instances are one item each
    handles = {p["handle"] for p in load_corpus()["bluesky"]} | {p["user"] for p in load_corpus()["mastodon"]}
    assert all(row[1] and row[1] not in handles for row in social)


def test_demo_never_replaces_a_database_it_did_not_make(tmp_path):
    from monitor.store import open_store

    real = tmp_path / "monitor.db"
    with open_store(real) as store:
        store.db.execute("INSERT INTO settings (key, value, updated_at) VALUES ('mine', '1', '2026-01-01T00:00:00Z')")
    before = real.read_bytes()
    result = run(["demo", "--db", str(real)], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: refusing to replace {real}: the demo did not make it (choose another --db)"
    assert real.read_bytes() == before

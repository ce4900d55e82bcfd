"""`monitor browse`: Datasette, read-only on 127.0.0.1, with our titles, item search and
the saved queries, checked in a real headless Chromium."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from monitor.browse import datasette_args, metadata
from monitor.queries import load_saved_queries
from monitor.store.catalog import TABLES
from tests import campaign_db
from tests.conftest import REPO

QUERIES = REPO / "db" / "queries"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


def test_metadata_titles_tables_enables_search_and_offers_the_saved_queries():
    queries = load_saved_queries(QUERIES)
    meta = metadata("monitor", queries)
    database = meta["databases"]["monitor"]
    items = database["tables"]["items"]
    assert (items["fts_table"], items["fts_pk"], items["searchmode"]) == ("items_fts", "rowid", "raw")
    for name, entry in TABLES.items():
        assert database["tables"][name]["title"] == entry.title
    assert database["tables"]["_sqlite_migrations"]["hidden"] is True
    assert set(database["queries"]) == {q.name for q in queries}
    figure = database["queries"]["outlets_quoting_figure"]
    assert figure["title"] == "Which outlets quoted a figure this month"
    assert figure["sql"].startswith("SELECT") and ":figure" in figure["sql"]  # header moved into the metadata


def test_datasette_is_bound_to_loopback_only():
    args = datasette_args(Path("db/monitor.db"), Path("meta.json"), 8123)
    assert args[args.index("--host") + 1] == "127.0.0.1" and args[args.index("--port") + 1] == "8123"
    assert "-i" not in args and "--immutable" not in args  # the collector keeps writing: served mode=ro


def test_browse_without_datasette_says_how_to_install_it(tmp_path):
    camp = campaign_db.build(tmp_path / "monitor.db")
    code = ("import sys; sys.modules['datasette'] = None; from monitor.cli import main; "
            f"main(['browse', '--db', {str(camp.path)!r}, '--port', '1'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: monitor browse needs Datasette, which is not installed: pip install -e '.[browse]'")


# --- the real thing: Datasette in a subprocess, pages rendered by headless Chromium ---------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Rows(HTMLParser):
    """The cells of Datasette's results table (class rows-and-columns), row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.depth = 0
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "rows-and-columns" in (dict(attrs).get("class") or ""):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag == "td":
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=90,
    )


def rendered_rows(url: str, profile: Path) -> tuple[str, list[list[str]]]:
    result = chromium("--dump-dom", url, profile=profile)
    assert result.returncode == 0, result.stderr[-2000:]
    parser = Rows()
    parser.feed(result.stdout)
    return result.stdout, [row for row in parser.rows if row]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    pytest.importorskip("datasette", reason="needs Datasette: pip install -e '.[browse]'")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs headless Chromium at {CHROMIUM} (apt-get install -y chromium)")
    folder = tmp_path_factory.mktemp("browse")
    camp = campaign_db.build(folder / "monitor.db")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    log = (folder / "browse.log").open("w")  # a file, not a pipe nobody reads: a full pipe would stall it
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "browse", "--db", str(camp.path), "--port", str(port)],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2):
                break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                pytest.fail(f"monitor browse did not start: {(folder / 'browse.log').read_text()[-2000:]}")
            time.sleep(0.2)
    try:
        yield camp, base, port, folder
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def test_canned_query_page_renders_the_answer(served):
    camp, base, _port, folder = served
    url = f"{base}/monitor/outlets_quoting_figure?figure={urllib.parse.quote('37%')}"
    dom, rows = rendered_rows(url, folder / "chromium-profile")
    assert [row[0] for row in rows] == ["Harbour Times", "Pennine Gazette"]  # a news search is not an outlet
    assert all(row[2].replace(" ", "") == "37%" for row in rows)
    assert "Which outlets quoted a figure this month" in dom  # title and description from the SQL header
    assert "Syndicated copies count for each outlet" in dom
    shot = folder / "canned-query.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1280,1100", url, profile=folder / "chromium-profile")
    assert result.returncode == 0 and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_items_search_page_finds_phrases_and_hides_purged_items(served):
    camp, base, _port, folder = served
    phrase = urllib.parse.quote('"online safety act"')
    url = f"{base}/monitor/items?_search={phrase}"
    dom, rows = rendered_rows(url, folder / "chromium-profile")
    titles = {cell for row in rows for cell in row}
    expected = {camp.rows[k].title for k in ("nspcc", "codes", "kosa")}
    assert expected <= titles, rows
    assert len(rows) == 3
    assert "Items" in dom and "Search it with the search box" in dom  # our title and description
    dom, rows = rendered_rows(f"{base}/monitor/items?_search=deleted", folder / "chromium-profile")
    assert rows == []  # the purged thread's placeholder is not in the index
    shot = folder / "items-search.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1280,1100", url, profile=folder / "chromium-profile")
    assert result.returncode == 0 and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_views_are_titled_and_a_view_page_renders(served):
    camp, base, _port, folder = served
    dom, rows = rendered_rows(f"{base}/monitor/source_health", folder / "chromium-profile")
    assert "Source health" in dom
    health = {row[1]: row[5] for row in rows}  # name -> health
    assert health["Dead Feed"] == "failing" and health["Moved Feed"] == "gone" and health["Harbour Times"] == "ok"


def test_it_is_read_only_and_listens_on_loopback_only(served):
    camp, base, port, _folder = served
    before = hashlib.sha256(camp.path.read_bytes()).hexdigest()
    for sql in ("DELETE FROM items", "UPDATE items SET title = 'x'", "DROP TABLE items"):
        url = f"{base}/monitor.json?sql={urllib.parse.quote(sql)}"
        with pytest.raises(urllib.error.HTTPError) as refused:
            get_json(url)
        assert refused.value.code == 400
    count = get_json(f"{base}/monitor.json?sql={urllib.parse.quote('select count(*) as n from items')}&_shape=array")
    assert count == [{"n": len(camp.rows)}]
    assert hashlib.sha256(camp.path.read_bytes()).hexdigest() == before
    tcp = Path("/proc/net/tcp")
    if tcp.exists():
        listening = [line.split()[1] for line in tcp.read_text().splitlines()[1:] if line.split()[3] == "0A"]
        ours = [address for address in listening if address.endswith(f":{port:04X}")]
        assert ours == ["0100007F:%04X" % port]  # 127.0.0.1 only

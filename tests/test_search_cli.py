"""`monitor search` and `monitor export` as an analyst uses them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from monitor.cli import main
from tests import campaign_db


@pytest.fixture(scope="module")
def camp(tmp_path_factory):
    return campaign_db.build(tmp_path_factory.mktemp("cli") / "monitor.db")


def cli(camp, *args: str):
    result = CliRunner().invoke(main, [*args, "--db", str(camp.path)])
    return result


def test_search_prints_ranked_hits_with_snippets_and_tags(camp):
    result = cli(camp, "search", "snapchat AND sextortion", "--since", "2023-10-26")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("2 items match 'snapchat AND sextortion', best match first:")
    assert "Teenage boys targeted in Snapchat sextortion wave" in out
    assert "Police warning over Snapchat sextortion of pupils" in out
    assert "Snapchat sextortion case heard in court" not in out  # before --since
    assert "[sextortion]" in out and "[Snapchat]" in out  # matches marked in the snippet
    assert "Wirecast Agency (news)  relevant  [sextortion, snapchat]" in out
    assert "https://wirecast-agency.example/boys" in out


def test_search_says_when_it_ranked_only_the_newest_matches(camp, monkeypatch):
    monkeypatch.setattr("monitor.store.search.RANK_WINDOW", 2)
    result = cli(camp, "search", "snapchat", "--limit", "2")
    assert "(ordered among the 2 most recently collected matches; narrow the query" in result.output
    result = cli(camp, "search", "snapchat", "--limit", "2", "--format", "json")
    assert len(json.loads(result.stdout)) == 2 and "note: ordered among the 2 most recently" in result.stderr


def test_search_answers_how_many_with_count(camp):
    result = cli(camp, "search", "snapchat AND sextortion", "--since", "2023-10-26", "--count")
    assert (result.exit_code, result.output) == (0, "2\n")
    result = cli(camp, "search", "sextortion", "--platform", "snapchat", "--topic", "sextortion", "--count")
    assert result.output == "3\n"


def test_search_json_and_csv(camp):
    result = cli(camp, "search", "roblox", "--media", "reddit", "--topic", "grooming", "--format", "json")
    hits = json.loads(result.output)
    assert [h["title"] for h in hits] == [
        "My son was groomed on Roblox, what do I do now?",
        "Chat settings for a nine year old: worried about grooming"]
    assert hits[0]["source"] == "r/ParentsAsk" and hits[0]["platforms"] == ["roblox"] and hits[0]["relevant"] is True
    assert "[Roblox]" in hits[0]["snippet"]

    result = cli(camp, "search", "grooming", "--format", "csv", "--sort", "newest")
    table = list(csv.DictReader(io.StringIO(result.output)))
    assert table and {"published_at", "source", "title", "url", "snippet", "topics"} <= set(table[0])
    assert [r["published_at"] for r in table] == sorted((r["published_at"] for r in table), reverse=True)
    hostile = next(r for r in table if "HYPERLINK" in r["title"])
    assert hostile["title"].startswith("'=HYPERLINK")  # shown as text, never run as a formula


def titles(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return sorted(hit["title"] for hit in json.loads(result.stdout))


def test_search_until_takes_the_whole_day_and_combines_with_since(camp):
    warning, court = "Police warning over Snapchat sextortion of pupils", "Snapchat sextortion case heard in court"
    assert titles(cli(camp, "search", "snapchat", "--until", "2024-03-10", "--format", "json")) == [warning, court]
    assert titles(cli(camp, "search", "snapchat", "--until", "2024-03-09", "--format", "json")) == [court]
    # published 09:30 UTC that day: a time before it leaves it out
    assert titles(cli(camp, "search", "snapchat", "--until", "2024-03-10T09:00", "--format", "json")) == [court]
    assert titles(cli(camp, "search", "snapchat", "--since", "2024-01-01", "--until", "2024-12-31",
                      "--format", "json")) == [warning]
    table = cli(camp, "search", "snapchat", "--until", "2024-03-10")
    assert table.output.startswith("2 items match 'snapchat'")
    assert warning in table.output and "Teenage boys targeted" not in table.output


def test_search_source_keeps_what_that_source_carried(camp):
    wire = titles(cli(camp, "search", "snapchat", "--source", "Wirecast Agency", "--format", "json"))
    assert wire == ["Police warning over Snapchat sextortion of pupils", "Teenage boys targeted in Snapchat sextortion wave"]
    by_id = titles(cli(camp, "search", "snapchat", "--source", "feed:wirecast-agency", "--format", "json"))
    assert by_id == wire
    # an item two sources carried is found through either of them
    carried = titles(cli(camp, "search", '"37%"', "--source", "News search: sextortion", "--format", "json"))
    assert carried == ["Snapchat used in 37% of online grooming offences, NSPCC figures show"]
    both = titles(cli(camp, "search", "snapchat", "--source", "Wirecast Agency", "--source", "Harbour Times",
                      "--format", "json"))
    assert both == sorted([*wire, "NSPCC: 37% of grooming crimes begin on Snapchat"])


def test_search_relevant_only_leaves_out_what_the_tagger_found_irrelevant(camp):
    everything = titles(cli(camp, "search", "roblox OR grooming", "--format", "json", "--limit", "100"))
    relevant = titles(cli(camp, "search", "roblox OR grooming", "--relevant-only", "--format", "json",
                          "--limit", "100"))
    assert "Roblox update adds new avatar bundles" in everything
    assert "Dog grooming salon opens on the high street" in everything
    assert set(everything) - set(relevant) == {
        "Roblox update adds new avatar bundles", "Dog grooming salon opens on the high street",
        '=HYPERLINK("http://evil.example","click") grooming thread'}
    assert "My son was groomed on Roblox, what do I do now?" in relevant
    count = cli(camp, "search", "roblox OR grooming", "--relevant-only", "--count")
    assert count.output == f"{len(relevant)}\n"
    table = cli(camp, "search", "roblox", "--relevant-only")
    assert "not relevant" not in table.output and "avatar bundles" not in table.output


def test_search_errors_are_one_line_with_exit_status_1(camp):
    for args, message in [
        (["search", "37%"], 'error: cannot search for \'37%\': syntax error near "%". Put words with punctuation'),
        (["search", "x", "--platform", "snapcht"], "error: no item is tagged platform 'snapcht' (platform values in"
                                                  " the database: instagram, roblox, snapchat)"),
        (["search", "x", "--source", "Daily Bugle"], "error: no source named 'Daily Bugle' (sources: "),
        (["search", "x", "--since", "last tuesday"], "error: since: 'last tuesday' is not a date"),
    ]:
        result = cli(camp, *args)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(message) and result.output.count("\n") == 1, result.output


def test_search_without_a_database_says_what_to_do(tmp_path):
    result = CliRunner().invoke(main, ["search", "x", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "no database at" in result.output and "monitor collect" in result.output
    assert not (tmp_path / "none.db").exists()


def test_hostile_text_cannot_reach_the_terminal_as_escape_sequences(tmp_path):
    from datetime import datetime, timezone

    from monitor.store import Run, open_store
    from monitor.types import FetchState, Item, Source

    source = Source(id="feed:x", kind="feed", name="X\x1b]0;owned\x07", url="https://x.example/")
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with open_store(tmp_path / "m.db") as store:
        store.sync_sources([source], now)
        item = Item(id="a", source_id="feed:x", url="https://x.example/a", title="Alert\x1b[2J\x1b[31m red",
                    text="grooming \x9b31m warning", published_at=now)
        store.save_batch(source, [item], FetchState(source_id="feed:x"),
                         Run(cycle_id="c", source_id="feed:x", started_at=now, ended_at=now, status="ok"), now)
    result = CliRunner().invoke(main, ["search", "grooming", "--db", str(tmp_path / "m.db")])
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\x9b" not in result.output and "\x07" not in result.output
    assert "Alert [2J [31m red" in result.output


def test_export_csv_for_spreadsheets(camp, tmp_path):
    out = tmp_path / "relevant.csv"
    result = cli(camp, "export", "--relevant-only", "--since", "2024-01-01", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"Exported 9 items to {out}\n"
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte-order mark, so Excel reads UTF-8
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(table) == 9
    assert [r["published_at"] for r in table] == sorted(r["published_at"] for r in table)
    nspcc = next(r for r in table if r["title"].startswith("Snapchat used in 37%"))
    assert nspcc["platforms"] == "instagram; snapchat" and nspcc["topics"] == "grooming"
    assert nspcc["outlets"] == "Pennine Gazette; News search: sextortion"
    assert nspcc["figures"] == "37%" and nspcc["relevant"] == "1" and nspcc["source"] == "Pennine Gazette"
    assert "text" not in table[0]


def test_export_until_takes_the_whole_day(camp, tmp_path):
    out = tmp_path / "old.json"
    result = cli(camp, "export", "--until", "2024-03-10", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"Exported 2 items to {out}\n"
    records = json.loads(out.read_text(encoding="utf-8"))
    assert [r["title"] for r in records] == ["Snapchat sextortion case heard in court",
                                             "Police warning over Snapchat sextortion of pupils"]  # oldest first
    lines = cli(camp, "export", "--until", "2024-03-09", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["title"] for line in lines] == ["Snapchat sextortion case heard in court"]
    window = cli(camp, "export", "--since", "2024-01-01", "--until", "2024-03-10", "--format", "csv").stdout
    table = list(csv.DictReader(io.StringIO(window.lstrip("\ufeff"))))
    assert [r["title"] for r in table] == ["Police warning over Snapchat sextortion of pupils"]


def test_export_gives_figures_of_relevant_items_only(camp):
    """The dog salon's "37%" is stored (figures of every item are) but not one to cite."""
    result = cli(camp, "export", "--format", "jsonl")
    rows = {r["title"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["Dog grooming salon opens on the high street"]["figures"] == []
    assert rows["Snapchat used in 37% of online grooming offences, NSPCC figures show"]["figures"] == ["37%"]


def test_export_with_a_broken_query_writes_nothing_but_the_error(camp):
    result = cli(camp, "export", "--match", "foo(")
    assert result.exit_code == 1
    assert result.stdout == ""  # no CSV header with nothing under it
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1


def test_export_json_jsonl_with_filters_and_text(camp, tmp_path):
    result = cli(camp, "export", "--match", '"37%"', "--format", "jsonl", "--text")
    lines = [json.loads(line) for line in result.output.splitlines()]
    oldest_first = sorted(["nspcc", "nspcc-copy"], key=lambda k: (camp.published(k), camp.ids[k]))
    assert [r["title"] for r in lines] == [camp.rows[k].title for k in oldest_first]
    assert all("37" in r["text"] and r["cluster_id"] == camp.ids["nspcc"] for r in lines)

    out = tmp_path / "reddit.json"
    cli(camp, "export", "--media", "reddit", "--out", str(out))
    records = json.loads(out.read_text(encoding="utf-8"))  # format from the extension
    assert {r["source"] for r in records} == {"r/ParentsAsk", "r/GamingDads"}
    assert camp.ids["purged"] not in {r["id"] for r in records}  # deleted upstream: never exported
    son = next(r for r in records if r["id"] == camp.ids["roblox-son"])
    assert (son["comments"], son["popularity"], son["platforms"]) == (87, 140, ["roblox"])


def test_a_failed_export_leaves_the_previous_file_alone(camp, tmp_path):
    out = tmp_path / "export.csv"
    out.write_text("yesterday's export\n", encoding="utf-8")
    result = cli(camp, "export", "--match", "37%", "--out", str(out))
    assert result.exit_code == 1 and "cannot search for '37%'" in result.output
    assert out.read_text(encoding="utf-8") == "yesterday's export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]  # no temporary file left behind


def test_export_piped_into_head_stops_quietly(tmp_path):
    import subprocess
    import sys
    from datetime import datetime, timezone

    from monitor.store import Run, open_store
    from monitor.types import FetchState, Item, Source

    source = Source(id="feed:x", kind="feed", name="X", url="https://x.example/")
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with open_store(tmp_path / "m.db") as store:
        store.sync_sources([source], now)
        items = [Item(id=f"i{n}", source_id="feed:x", url=f"https://x.example/{n}", title=f"Item {n}",
                      text="invented filler text " * 40, published_at=now) for n in range(400)]
        store.save_batch(source, items, FetchState(source_id="feed:x"),
                         Run(cycle_id="c", source_id="feed:x", started_at=now, ended_at=now, status="ok"), now)
    process = subprocess.Popen([sys.executable, "-m", "monitor", "export", "--text", "--db", str(tmp_path / "m.db")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"id,published_at")
    process.stdout.close()  # like `head -1` does
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""  # no BrokenPipeError traceback


def test_the_database_comes_from_the_config_else_db_monitor_db(camp, tmp_path, monkeypatch):
    import shutil

    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "db").mkdir()
    shutil.copy(camp.path, tmp_path / "db" / "monitor.db")  # no config.toml here: the default path
    result = CliRunner().invoke(main, ["search", '"37%"', "--count"])
    assert (result.exit_code, result.output) == (0, "2\n")
    config = tmp_path / "other.toml"
    config.write_text(f'[storage]\npath = "{camp.path}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "search", "roblox", "--count"])
    assert (result.exit_code, result.output) == (0, "3\n")

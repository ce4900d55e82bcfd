"""Every saved query in db/queries runs as documented, with sqlite-utils, and answers
its question on the invented campaign database."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils.cli import cli as sqlite_utils_cli

from monitor.errors import QueryError
from monitor.queries import load_saved_queries, parse_saved_query
from tests import campaign_db
from tests.conftest import REPO

QUERIES = REPO / "db" / "queries"


@pytest.fixture(scope="module")
def camp(tmp_path_factory):
    return campaign_db.build(tmp_path_factory.mktemp("saved") / "monitor.db")


def run(camp, name: str, **params: str) -> list[dict]:
    """Exactly `sqlite-utils query DB "$(cat db/queries/NAME.sql)" -p name value`."""
    sql = (QUERIES / f"{name}.sql").read_text(encoding="utf-8").rstrip("\n")  # $(cat) drops trailing newlines
    args = ["query", str(camp.path), sql]
    for key, value in params.items():
        args += ["-p", key, value]
    result = CliRunner().invoke(sqlite_utils_cli, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def titles(camp, keys):
    return [camp.rows[k].title for k in keys]


def test_there_are_a_dozen_documented_queries():
    queries = load_saved_queries(QUERIES)
    assert len(queries) >= 12
    for query in queries:
        assert len(query.title) > 10 and len(query.description) > 40, query.name
        assert query.sql.startswith("/*"), f"{query.name}: an argument starting with -- is taken for an option"


def test_grooming_per_platform_weekly(camp):
    rows = run(camp, "grooming_per_platform_weekly")
    totals = {}
    for row in rows:
        monday = date.fromisoformat(row["week_starting"])
        assert monday.weekday() == 0
        totals[row["platform"]] = totals.get(row["platform"], 0) + row["grooming_items"]
    assert totals == {"snapchat": 2, "instagram": 1, "roblox": 1}
    son = date.fromisoformat(camp.published("roblox-son")[:10])
    roblox = next(r for r in rows if r["platform"] == "roblox")
    assert roblox["week_starting"] == (son - timedelta(days=son.weekday())).isoformat()


@pytest.mark.parametrize("figure", ["37%", "37 %"])
def test_outlets_quoting_figure_lists_every_outlet_that_carried_it(camp, figure):
    rows = run(camp, "outlets_quoting_figure", figure=figure)
    # the news search that also carried the item is not an outlet
    assert [r["outlet"] for r in rows] == ["Harbour Times", "Pennine Gazette"]
    assert all("37" in r["sentence"] for r in rows)
    assert run(camp, "outlets_quoting_figure", figure="38%") == []


def test_most_quoted_figures_counts_spellings_as_one(camp):
    rows = run(camp, "most_quoted_figures")
    assert [(r["figure"], r["items"], r["outlets"]) for r in rows] == [("37%", 2, 2), ("1,220", 1, 1)]
    assert rows[0]["latest_sentence"] == "Snapchat was used in 37% of recorded offences"


def test_snapchat_sextortion_since_the_act(camp):
    rows = run(camp, "snapchat_sextortion_since_osa")
    months = {camp.published("warning")[:7], camp.published("boys")[:7]}
    assert [r["month"] for r in rows] == sorted(months)
    assert rows[-1]["stories_so_far"] == 2  # the 2023-09 case came before the Act


def test_reddit_roblox_grooming_uses_tags_and_text(camp):
    rows = run(camp, "reddit_roblox_grooming")
    # tagged roblox; mentions Roblox only in its text; not the avatars thread (no grooming)
    # and not the purged thread
    assert [r["title"] for r in rows] == titles(camp, ["roblox-son", "roblox-settings"])
    assert rows[0]["subreddit"] == "ParentsAsk" and rows[0]["comments"] == 87


def test_legislation_mentions_monthly(camp):
    rows = run(camp, "legislation_mentions_monthly")
    per_law = {}
    for row in rows:
        per_law[row["law"]] = per_law.get(row["law"], 0) + row["items"]
    assert per_law == {"online_safety_act_uk": 2, "kosa_us": 1}
    assert [r["month"] for r in rows] == sorted((r["month"] for r in rows), reverse=True)


def test_top_organisations_this_month(camp):
    rows = run(camp, "top_organisations_this_month")
    assert [(r["organisation"], r["items"], r["outlets"]) for r in rows] == [
        ("nspcc", 2, 2), ("ofcom", 1, 1), ("police", 1, 1)]
    assert rows[0]["latest_title"] == camp.rows["nspcc"].title


def test_sources_failing_now(camp):
    rows = run(camp, "sources_failing_now")
    assert [(r["name"], r["health"]) for r in rows] == [("Moved Feed", "gone"), ("Dead Feed", "failing")]
    assert rows[1]["last_error"] == "HTTP 503 from server"


def test_syndicated_stories_this_week(camp):
    rows = run(camp, "syndicated_stories_this_week")
    assert rows == [{
        "story": camp.rows["nspcc"].title, "outlets": 2, "copies": 2,
        "first_published_at": camp.published("nspcc-copy"), "last_published_at": camp.published("nspcc"),
        "outlet_names": "Harbour Times, Pennine Gazette"}]


def test_new_relevant_today(camp):
    rows = run(camp, "new_relevant_today")
    assert sorted(r["title"] for r in rows) == sorted(titles(camp, ["nspcc", "nspcc-copy"]))
    gazette = next(r for r in rows if r["source"] == "Pennine Gazette")
    assert gazette["topics"] == "grooming" and gazette["platforms"] == "instagram, snapchat"


def test_topics_per_day_28d(camp):
    rows = run(camp, "topics_per_day_28d")
    assert len(rows) == 28 and rows[-1]["day"] == datetime.now(timezone.utc).date().isoformat()
    sums = {topic: sum(r[topic] for r in rows) for topic in ("grooming", "sextortion", "legislation", "csam")}
    assert sums == {"grooming": 4, "sextortion": 2, "legislation": 1, "csam": 0}
    assert sum(r["child_online_safety"] for r in rows) == 1
    assert sum(r["total"] for r in rows) == 7  # codes has two topics but counts once
    son_day = next(r for r in rows if r["day"] == camp.published("roblox-son")[:10])
    assert son_day["grooming"] >= 1


def test_reddit_most_discussed(camp, tmp_path):
    rows = run(camp, "reddit_most_discussed")
    assert [(r["title"], r["comments"]) for r in rows] == list(zip(
        titles(camp, ["scam", "roblox-son", "roblox-settings"]), [300, 87, 5]))
    assert {r["subreddit"] for r in rows} == {"ParentsAsk"}  # the subreddit, not the source's name
    # A relevant comment (t1_) is not a thread, however much it was discussed.
    copy = tmp_path / "copy.db"
    shutil.copy(camp.path, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("INSERT INTO items (id, source_id, media, title, text, published_at, collected_at, updated_at,"
                     " content_hash, relevant, comments, popularity, extra)"
                     " SELECT 't1_comment', source_id, media, 'A comment', 'text', published_at, collected_at,"
                     " updated_at, 'x', 1, 9999, 9999, extra FROM items WHERE id GLOB 't3_*' LIMIT 1")
    titles_seen = [r["title"] for r in run(dataclasses.replace(camp, path=copy), "reddit_most_discussed")]
    assert "A comment" not in titles_seen and len(titles_seen) == 3


def test_relevant_share_by_source(camp):
    rows = {r["source"]: r for r in run(camp, "relevant_share_by_source")}
    assert (rows["Pennine Gazette"]["items"], rows["Pennine Gazette"]["relevant"]) == (2, 1)
    assert rows["Pennine Gazette"]["relevant_pct"] == 50.0
    assert rows["r/GamingDads"]["relevant_pct"] == 0.0
    assert rows["r/ParentsAsk"]["items"] == 3  # the purged thread does not count


def test_search_items(camp):
    rows = run(camp, "search_items", q='"37%"')
    assert sorted(r["title"] for r in rows) == sorted(titles(camp, ["nspcc", "nspcc-copy"]))
    assert all("[37%]" in r["snippet"] and r["verdict"] == "relevant" for r in rows)
    rows = run(camp, "search_items", q="roblox AND groom*")
    assert sorted(r["title"] for r in rows) == sorted(titles(camp, ["roblox-son", "roblox-settings"]))
    assert run(camp, "search_items", q="deleted OR throwaway") == []  # the purged thread is not in the index


def test_every_saved_query_has_a_test():
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [q.name for q in load_saved_queries(QUERIES) if f'"{q.name}"' not in source]
    assert not untested, f"saved queries without a test: {untested}"


def test_a_saved_query_without_its_header_is_refused(tmp_path):
    path = tmp_path / "bare.sql"
    path.write_text("SELECT 1;\n", encoding="utf-8")
    with pytest.raises(QueryError, match=r"bare.sql: the opening /\* ... \*/ comment needs title: and description:"):
        parse_saved_query(path)
    path.write_text("/* title: One\n   description: the number one,\n     on two lines */\nSELECT :n;\n")
    query = parse_saved_query(path)
    assert (query.title, query.description, query.parameters) == ("One", "the number one, on two lines", ("n",))

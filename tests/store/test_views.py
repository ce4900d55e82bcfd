"""The analyst's views answer from the tables, leave purged items out, and are documented."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from monitor.store import open_store
from monitor.store.catalog import HIDDEN, TABLES
from tests import campaign_db


@pytest.fixture(scope="module")
def camp(tmp_path_factory):
    return campaign_db.build(tmp_path_factory.mktemp("views") / "camp.db")


@pytest.fixture(scope="module")
def db(camp):
    from monitor.store.reader import open_reader

    reader = open_reader(camp.path)
    yield reader
    reader.conn.close()


def rows(db, sql, params=()):
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def keys(camp, ids):
    by_id = {v: k for k, v in camp.ids.items()}
    return {by_id[i] for i in ids}


def test_relevant_items_are_the_relevant_live_ones_with_source_names(camp, db):
    found = rows(db, "SELECT * FROM relevant_items")
    assert keys(camp, [r["id"] for r in found]) == {
        "nspcc", "nspcc-copy", "boys", "warning", "before-act", "roblox-son", "roblox-settings", "codes", "kosa",
        "scam"}  # not the dog salon, the avatars or the formula; not the purged thread
    nspcc = next(r for r in found if r["id"] == camp.ids["nspcc"])
    assert nspcc["source"] == "Pennine Gazette" and nspcc["day"] == camp.published("nspcc")[:10]


def test_tagged_items_flatten_tags_into_json_arrays(camp, db):
    found = {r["id"]: r for r in rows(db, "SELECT * FROM tagged_items")}
    nspcc = found[camp.ids["nspcc"]]
    assert json.loads(nspcc["platforms"]) == ["instagram", "snapchat"]
    assert json.loads(nspcc["topics"]) == ["grooming"]
    assert json.loads(nspcc["legislation"]) == ["online_safety_act_uk"]
    assert json.loads(nspcc["organisations"]) == ["nspcc"]
    assert json.loads(found[camp.ids["dog"]]["platforms"]) == [] and found[camp.ids["dog"]]["relevant"] == 0
    assert camp.ids["purged"] not in found
    snapchat = rows(db, "SELECT id FROM tagged_items WHERE EXISTS (SELECT 1 FROM json_each(platforms)"
                        " WHERE value = 'snapchat')")
    assert keys(camp, [r["id"] for r in snapchat]) == {"nspcc", "nspcc-copy", "boys", "warning", "before-act"}


def test_platform_and_topic_daily_count_relevant_items(camp, db):
    platform = rows(db, "SELECT * FROM platform_daily")
    per_platform = Counter()
    grooming = Counter()
    for r in platform:
        per_platform[r["platform"]] += r["items"]
        grooming[r["platform"]] += r["grooming_items"]
    # relevant only: the avatars thread (roblox, not relevant) and the purged thread are out
    assert per_platform == {"snapchat": 5, "instagram": 2, "roblox": 1}
    assert grooming == {"snapchat": 2, "instagram": 1, "roblox": 1}
    day = camp.published("boys")[:10]
    assert {"day": day, "platform": "snapchat", "items": 1, "grooming_items": 0} in platform

    topic = Counter()
    for r in rows(db, "SELECT * FROM topic_daily"):
        topic[r["topic"]] += r["items"]
    assert topic == {"grooming": 4, "sextortion": 4, "legislation": 2, "child_online_safety": 1}


def test_legislation_quoted_statistics_and_cluster_items(camp, db):
    laws = rows(db, "SELECT law, item_id, source FROM legislation_mentions ORDER BY law, item_id")
    assert [(r["law"], r["source"]) for r in laws] == [
        ("kosa_us", "Wirecast Agency"), ("online_safety_act_uk", "Pennine Gazette"),
        ("online_safety_act_uk", "Harbour Times")]
    figures = rows(db, 'SELECT figure, "of", outlet, sentence FROM quoted_statistics ORDER BY outlet')
    assert [(r["figure"], r["of"], r["outlet"]) for r in figures] == [
        ("37 %", None, "Harbour Times"), ("37%", "offences", "Pennine Gazette"), ("1,220", None, "Wirecast Agency")]
    copies = rows(db, "SELECT * FROM cluster_items ORDER BY outlet")
    assert [c["outlet"] for c in copies] == ["Harbour Times", "Pennine Gazette"]
    assert {c["cluster_id"] for c in copies} == {camp.ids["nspcc"]} and copies[0]["outlets"] == 2


def test_source_health_says_which_sources_work(camp, db):
    health = {r["name"]: r for r in rows(db, "SELECT * FROM source_health")}
    assert health["Dead Feed"]["health"] == "failing" and health["Dead Feed"]["failures"] == 3
    assert health["Moved Feed"]["health"] == "gone"
    assert health["Pennine Gazette"]["health"] == "ok"
    assert health["Pennine Gazette"]["items"] == 3  # two of its own and the 2023 case
    assert health["News search: sextortion"]["items"] == 1  # it carried the NSPCC story too
    assert health["Dead Feed"]["failed_runs_7d"] == 1


def test_every_table_and_view_is_documented(tmp_path):
    """Datasette's titles and the README's database section come from the catalogue."""
    with open_store(tmp_path / "m.db") as store:
        names = [r[0] for r in store.db.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'items_fts_%'")]
    undocumented = [n for n in names if n not in TABLES and n not in HIDDEN]
    assert not undocumented, f"add these to monitor/store/catalog.py and the README: {undocumented}"
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [n for n in TABLES if f"`{n}`" not in readme]
    assert not missing, f"README's database section does not mention {missing}"

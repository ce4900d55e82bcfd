"""The full-text index stays in step with items, and search finds, ranks and filters."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.errors import QueryError
from monitor.store import Run, open_store
from monitor.store.filters import ItemFilter, lower_bound, upper_bound
from monitor.store.reader import open_reader
from monitor.store.search import count_matches, resolve_sources
from monitor.store.search import search as run_search
from monitor.types import FetchState, Item, Source
from tests import campaign_db

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
FEED = Source(id="feed:gazette", kind="feed", name="Gazette", url="https://gazette.example/rss")


def save(store, items, now=NOW, source=FEED):
    run = Run(cycle_id="c", source_id=source.id, started_at=now, ended_at=now, status="ok")
    return store.save_batch(source, items, FetchState(source_id=source.id), run, now)


def item(key, title, text, **extra):
    return Item(id=key, source_id=FEED.id, url=f"https://gazette.example/{key}", title=title, text=text,
                published_at=extra.pop("published_at", NOW), **extra)


def search(db, query, flt=ItemFilter(), **options):
    return run_search(db, query, flt, **options).hits


def fts_rowids(store, query):
    """What the index itself holds, independent of the search code's filters."""
    return [row[0] for row in store.db.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ?", [query])]


def integrity_check(store):
    """The index holds exactly the live items' words: compare every (term, row, column,
    position) with a fresh index of the live items built the same way."""
    db = store.db
    db.execute("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")  # internally consistent
    db.execute("CREATE VIRTUAL TABLE temp.reference USING fts5(title, text,"
               " tokenize=\"unicode61 remove_diacritics 2 tokenchars '%'\")")
    db.execute("INSERT INTO temp.reference (rowid, title, text) SELECT rowid, title, text FROM items"
               " WHERE deleted_at IS NULL")
    db.execute("CREATE VIRTUAL TABLE temp.live_words USING fts5vocab(main, items_fts, 'instance')")
    db.execute("CREATE VIRTUAL TABLE temp.reference_words USING fts5vocab(temp, reference, 'instance')")
    indexed = db.execute("SELECT * FROM temp.live_words ORDER BY 1, 2, 3, 4").fetchall()
    expected = db.execute("SELECT * FROM temp.reference_words ORDER BY 1, 2, 3, 4").fetchall()
    for table in ("live_words", "reference_words", "reference"):
        db.execute(f"DROP TABLE temp.{table}")
    assert indexed == expected


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "m.db") as opened:
        opened.sync_sources([FEED], NOW)
        yield opened


def test_new_updated_purged_and_deleted_items_are_reflected_in_the_index(store):
    save(store, [item("a", "Council budget vote", "The quarrymen's union objected."),
                 item("b", "Ferry timetable", "Winter sailings are reduced.")])
    assert len(fts_rowids(store, "quarrymen")) == 1

    # the same entry changes upstream: old words leave the index, new ones arrive
    save(store, [item("a", "Council budget vote", "The lighthouse keepers objected.")], now=NOW + timedelta(hours=1))
    assert fts_rowids(store, "quarrymen") == []
    assert [h.id for h in search(store.db, "lighthouse")] == ["a"]

    # the upstream-deletion purge blanks the content with an UPDATE
    store.db.execute("UPDATE items SET title = '[deleted]', text = '', deleted_at = ? WHERE id = 'a'",
                     ["2026-05-04T13:00:00Z"])
    assert fts_rowids(store, "lighthouse") == [] and fts_rowids(store, "council") == []
    assert fts_rowids(store, "deleted") == []  # the purged item left the index altogether
    integrity_check(store)

    store.db.execute("DELETE FROM items WHERE id = 'b'")
    assert fts_rowids(store, "ferry") == []
    integrity_check(store)  # the external-content index matches the table exactly


def test_the_reddit_purge_takes_an_item_out_of_the_index(store):
    save(store, [item("t3_a", "Groomed on a game, need advice", "Throwaway account."),
                 item("t3_b", "Other thread", "nothing")])
    assert store.apply_deletions(["t3_a"], [], NOW) == (1, 0)
    assert fts_rowids(store, "groomed") == [] and fts_rowids(store, "throwaway") == []
    integrity_check(store)


def test_an_item_marked_deleted_leaves_the_index_even_before_it_is_blanked(store):
    save(store, [item("a", "Grooming thread", "Posted by a parent."), item("b", "Other", "grooming too")])
    store.db.execute("UPDATE items SET deleted_at = '2026-05-04T13:00:00Z' WHERE id = 'a'")
    assert [h.id for h in search(store.db, "grooming")] == ["b"]
    assert len(fts_rowids(store, "grooming")) == 1
    store.db.execute("UPDATE items SET title = '[deleted]', text = '' WHERE id = 'a'")  # purged later
    store.db.execute("DELETE FROM items WHERE id = 'a'")  # or removed for good
    integrity_check(store)


def test_rebuilding_the_index_leaves_deleted_items_out(store):
    from monitor.store.search import rebuild_index

    save(store, [item("a", "Grooming thread", "Posted by a parent."), item("b", "Other", "grooming too")])
    store.db.execute("UPDATE items SET deleted_at = '2026-05-04T13:00:00Z' WHERE id = 'a'")
    rebuild_index(store.db)
    assert len(fts_rowids(store, "grooming")) == 1
    integrity_check(store)


def test_a_tagging_update_leaves_the_index_alone(store):
    save(store, [item("a", "Council budget vote", "Quarrymen objected.")])
    before = store.db.execute("SELECT count(*) FROM items_fts_data").fetchone()[0]
    store.db.execute("UPDATE items SET relevant = 1, score = 0.9 WHERE id = 'a'")
    assert store.db.execute("SELECT count(*) FROM items_fts_data").fetchone()[0] == before
    integrity_check(store)


def test_title_matches_rank_first_and_snippets_mark_the_match(store):
    save(store, [
        item("text-only", "Weekly round-up", "The council met on Tuesday to discuss the budget, the bins, the "
             "ferry and the new car park at length, and among other things a sextortion warning was issued to "
             "schools by the police. The meeting closed at nine."),
        item("in-title", "Sextortion warning for parents", "Schools were told to look out for blackmail."),
        *(item(f"other-{n}", f"Ferry timetable {n}", "Nothing to see.") for n in range(5)),
    ])
    hits = search(store.db, "sextortion", mark=("<<", ">>"))
    assert [h.id for h in hits] == ["in-title", "text-only"]
    snippet = hits[1].snippet
    assert "<<sextortion>>" in snippet and snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet.split()) < 30  # a window around the match, not the whole text
    assert hits[0].rank < hits[1].rank  # bm25: lower is better


def test_query_syntax_phrases_boolean_near_prefix_and_figures(store):
    save(store, [
        item("p1", "Online Safety Act duties begin", "Ofcom said the codes apply from March."),
        item("p2", "Safety first at the online shop", "An act of kindness."),
        item("p3", "Snapchat used in 37% of cases", "Police identified 37 children; groomers were jailed."),
        item("p4", "Café owner groomed successor", "Naïve plans for the café's future."),
    ])
    ids = lambda query: sorted(h.id for h in search(store.db, query))  # noqa: E731
    assert ids('"online safety act"') == ["p1"]
    assert ids("online AND safety") == ["p1", "p2"]
    assert ids("online NOT ofcom") == ["p2"]
    assert ids("ofcom OR kindness") == ["p1", "p2"]
    assert ids("NEAR(ofcom codes, 3)") == ["p1"]
    assert ids("groom*") == ["p3", "p4"]
    assert ids('"37%"') == ["p3"]  # the figure, not any 37
    assert ids("title:safety") == ["p1", "p2"] and ids("title:ofcom") == []
    assert ids("cafe naive") == ["p4"]  # accents do not matter


@pytest.mark.parametrize("query, hint", [
    ("37%", 'syntax error near "%"'),
    ('"unclosed', "unterminated string"),
    ("headline: ofcom", "no such column: headline (column filters are title: or text:)"),
    ("   ", "empty search query"),
])
def test_a_query_fts_cannot_parse_is_one_clear_error(store, query, hint):
    save(store, [item("a", "Anything", "at all")])
    with pytest.raises(QueryError) as raised:
        search(store.db, query)
    assert hint in str(raised.value)
    if query.strip():
        assert "double quotes" in str(raised.value)


def test_ranking_is_limited_to_the_newest_matches_when_there_are_many(store):
    # five matches, collected in order; the oldest has the best title match
    save(store, [item("old", "Sextortion sextortion sextortion", "sextortion")])
    for n in range(4):
        save(store, [item(f"new{n}", f"Weekly round-up {n}", "a long text that mentions sextortion once " * 3)],
             now=NOW + timedelta(hours=n + 1))
    exact = run_search(store.db, "sextortion", limit=2)
    assert exact.ranked_within is None and exact.hits[0].id == "old"
    windowed = run_search(store.db, "sextortion", limit=2, window=3)
    assert windowed.ranked_within == 3
    assert {h.id for h in windowed.hits} <= {"new1", "new2", "new3"}
    newest = run_search(store.db, "sextortion", limit=2, order="newest", window=3)
    assert newest.ranked_within == 3 and [h.id for h in newest.hits] == ["new3", "new2"]
    # filters that leave too few in the window fall back to ranking every match
    store.db.execute("UPDATE items SET relevant = 1 WHERE id = 'old'")
    relevant = run_search(store.db, "sextortion", ItemFilter(relevant_only=True), limit=2, window=3)
    assert [h.id for h in relevant.hits] == ["old"] and relevant.ranked_within is None


def test_search_survives_vacuum(store):
    """The index is keyed by items.rowid; VACUUM must not renumber them under it."""
    save(store, [item(f"k{n}", f"Story {n}", f"word{n} common") for n in range(50)])
    store.db.execute("DELETE FROM items WHERE id IN ('k3', 'k10', 'k20')")
    before = {h.id for h in search(store.db, "common", limit=100)}
    store.db.execute("VACUUM")
    assert {h.id for h in search(store.db, "common", limit=100)} == before
    assert [h.id for h in search(store.db, "word42")] == ["k42"]
    integrity_check(store)


def test_migrating_an_existing_database_indexes_its_items(tmp_path):
    from monitor.store.db import connect
    from monitor.store.schema import migrations

    path = tmp_path / "old.db"
    db = connect(path)
    migrations.apply(db, stop_before="0009_search")  # a database from before full-text search
    db.execute("INSERT INTO sources (id, kind, name, created_at, updated_at) VALUES ('feed:x', 'feed', 'X', '', '')")
    db.execute("INSERT INTO items (id, source_id, title, text, published_at, collected_at, updated_at,"
               " content_hash) VALUES ('old', 'feed:x', 'Archived grooming story', 'From last year', '2025-01-01',"
               " '', '', '')")
    db.conn.commit()
    db.conn.close()
    reader = open_reader(path)  # a reader brings the schema up to date first
    assert [h.id for h in search(reader, "archived")] == ["old"]


def test_filters_combine_dates_tags_sources_media_and_relevance(tmp_path):
    camp = campaign_db.build(tmp_path / "camp.db")
    db = open_reader(camp.path)

    def ids(query, **kw):
        found = {h.id for h in search(db, query, ItemFilter(**kw), limit=100)}
        return {key for key, item_id in camp.ids.items() if item_id in found}

    assert ids("snapchat AND sextortion") == {"boys", "warning", "before-act"}
    assert ids("snapchat AND sextortion", since=lower_bound("2023-10-26")) == {"boys", "warning"}
    assert ids("snapchat AND sextortion", until=upper_bound("2024-03-10")) == {"warning", "before-act"}
    assert ids("snapchat AND sextortion", until=upper_bound("2024-03-09")) == {"before-act"}
    assert ids("grooming") >= {"dog", "roblox-settings"}
    assert "roblox-son" not in ids("grooming") and "roblox-son" in ids("groom*")  # no stemming: prefix it
    assert "dog" not in ids("grooming", relevant_only=True)
    assert ids("groom*", media=("reddit",)) == {"roblox-son", "roblox-settings", "formula"}
    assert ids("roblox", topics=("grooming",)) == {"roblox-son", "roblox-settings"}
    assert ids("roblox", platforms=("roblox",)) == {"roblox-son", "roblox-avatars"}
    assert ids("snapchat", platforms=("snapchat",), topics=("grooming",)) == {"nspcc", "nspcc-copy"}
    assert ids("ofcom OR safety", legislation=("online_safety_act_uk",)) == {"nspcc", "codes"}
    # an item carried by a news search counts for that source too
    search_source = resolve_sources(db, ["news search: sextortion"])
    assert ids("snapchat", source_ids=search_source) == {"nspcc"}
    assert count_matches(db, "snapchat AND sextortion", ItemFilter(since=lower_bound("2023-10-26"))) == 2


def test_newest_order_and_limit(tmp_path):
    camp = campaign_db.build(tmp_path / "camp.db")
    db = open_reader(camp.path)
    hits = search(db, "snapchat", order="newest", limit=2)
    assert len(hits) == 2
    assert [h.id for h in hits] == [camp.ids["nspcc"], camp.ids["nspcc-copy"]]  # published last
    assert hits[0].platforms == ("instagram", "snapchat") and hits[0].topics == ("grooming",)
    assert hits[0].organisations == ("nspcc",) and hits[0].legislation == ("online_safety_act_uk",)


def test_unknown_source_and_bad_dates_are_clear_errors(tmp_path):
    camp = campaign_db.build(tmp_path / "camp.db")
    db = open_reader(camp.path)
    with pytest.raises(QueryError, match=r"no source named 'Daily Bugle' \(sources: .*Harbour Times"):
        resolve_sources(db, ["Daily Bugle"])
    with pytest.raises(QueryError, match=r"since: '26/10/2023' is not a date"):
        lower_bound("26/10/2023")
    assert lower_bound("2023-10-26") == "2023-10-26"
    assert upper_bound("2023-10-26") == "2023-10-27"
    assert lower_bound("2023-10-26T10:00:00+01:00") == "2023-10-26T09:00:00Z"


def test_statistics_are_refreshed_when_items_double_or_a_migration_adds_an_index(store):
    from monitor.store.db import refresh_statistics

    save(store, [item(f"k{n}", f"Story {n}", "text") for n in range(40)])
    assert refresh_statistics(store.db, minimum_items=10) is True  # never analysed
    assert refresh_statistics(store.db, minimum_items=10) is False  # nothing changed
    save(store, [item(f"m{n}", f"Story {n}", "text") for n in range(50)], now=NOW + timedelta(hours=1))
    assert refresh_statistics(store.db, minimum_items=10) is True  # 40 -> 90 items
    store.db.execute("CREATE INDEX items_new_by_author ON items(author)")
    assert refresh_statistics(store.db, minimum_items=10) is True  # an index without statistics
    stats = {row[0] for row in store.db.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'items'")}
    assert {"items_new_by_author", "items_day", "items_published_at"} <= stats
    assert refresh_statistics(store.db, minimum_items=10) is False

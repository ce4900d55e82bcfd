"""Purging items deleted upstream stays quick as the database grows: a post's title leaves
its stored comments through an index, and only posts have comments. Invented items only."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from monitor.store import Run, open_store
from monitor.types import FetchState, Item, Source

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
SUB = Source(id="reddit_subreddit:invented", kind="reddit_subreddit", name="r/invented")


def post(n: int) -> Item:
    return Item(id=f"t3_inv{n}", source_id=SUB.id, url=f"https://www.reddit.com/r/invented/comments/inv{n}/",
                title=f"Invented post {n}", text="Invented text.", published_at=NOW)


def comment(n: int, parent: str) -> Item:
    return Item(id=f"t1_inv{n}", source_id=SUB.id, url=f"https://www.reddit.com/r/invented/comments/x/inv{n}/",
                title=f"Invented comment {n}", text="Invented reply.", published_at=NOW,
                extra={"kind": "comment", "parent": parent, "parent_title": f"Title of {parent}"})


def stored_store(tmp_path):
    store = open_store(tmp_path / "m.db")
    store.sync_sources([SUB], NOW)
    items = [post(1), post(2), comment(1, "t3_inv1"), comment(2, "t3_inv1"), comment(3, "t3_inv2")]
    store.save_batch(SUB, items, FetchState(SUB.id), Run("c", SUB.id, NOW, NOW, "ok"), NOW)
    return store


def extras(store) -> dict[str, dict]:
    return {row[0]: json.loads(row[1]) for row in store.db.execute("SELECT id, extra FROM items WHERE id LIKE 't1_%'")}


def traced(store, action) -> list[str]:
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        action()
    finally:
        store.db.conn.set_trace_callback(None)
    return statements


def test_purging_a_post_clears_its_title_from_its_comments_through_the_parent_index(tmp_path):
    store = stored_store(tmp_path)
    statements = traced(store, lambda: store.apply_deletions(["t3_inv1"], [], NOW))
    assert "parent_title" not in extras(store)["t1_inv1"] and "parent_title" not in extras(store)["t1_inv2"]
    assert extras(store)["t1_inv3"]["parent_title"] == "Title of t3_inv2"  # another post's comment keeps it
    (update,) = [s for s in statements if "parent_title" in s]
    # The very statement the purge ran (parameters inlined by the trace) is answered from the index,
    # not by reading every Reddit item.
    plan = " ".join(row[3] for row in store.db.execute("EXPLAIN QUERY PLAN " + update))
    assert "USING INDEX items_reddit_parent" in plan, plan
    store.close()


def test_purging_a_comment_or_a_news_item_does_not_look_for_comments_of_it(tmp_path):
    store = stored_store(tmp_path)
    statements = traced(store, lambda: store.apply_deletions(["t1_inv3"], [], NOW))
    assert not [s for s in statements if "parent_title" in s]
    assert store.db.execute("SELECT deleted_at FROM items WHERE id = 't1_inv3'").fetchone()[0] is not None
    assert extras(store)["t1_inv1"]["parent_title"] == "Title of t3_inv1"
    store.close()

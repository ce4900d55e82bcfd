"""Writes are all-or-nothing per source batch, and a failed batch is not lost to a 304."""

from __future__ import annotations

import pytest

from monitor.demo.server import static
from tests.conftest import DATA
from tests.helpers import open_app, rows

FEED = (DATA / "feeds" / "ours_rss20.xml").read_bytes()


def snapshot(monitor) -> dict[str, list]:
    return {table: rows(monitor, f"SELECT * FROM {table} ORDER BY 1")
            for table in ("items", "item_sources", "fetch_state")}


def test_failure_mid_batch_leaves_the_database_as_it_was(server, make_config, caplog):
    url = server.route("/feed.xml", static(FEED, etag='"v1"'))
    with open_app(make_config, feeds=[{"name": "gazette", "url": url}]) as monitor:
        # A real SQLite failure on the third item of the batch, as a full disk or a
        # constraint would cause: the first two rows are already written when it fires.
        monitor.store.db.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON items WHEN NEW.title = 'Council meeting notes'"
            " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
        before = snapshot(monitor)
        result = monitor.collect().results[0]
        assert result.status == "failed" and "nothing of this batch was kept" in result.error
        after = snapshot(monitor)
        assert after["items"] == before["items"] == []
        assert after["item_sources"] == []
        # The failure is recorded (run row, back-off) but the validators were NOT stored,
        # so the next fetch is a full one rather than a 304 that would lose the batch.
        state = rows(monitor, "SELECT etag, failures, last_error FROM fetch_state")[0]
        assert state["etag"] is None and state["failures"] == 1 and "could not store" in state["last_error"]
        assert [r["status"] for r in rows(monitor, "SELECT status FROM runs")] == ["failed"]

        monitor.store.db.execute("DROP TRIGGER boom")
        retry = monitor.collect(force=True).results[0]
        assert (retry.status, retry.new) == ("ok", 4)
        assert server.requests_to("/feed.xml")[-1].headers.get("if-none-match") is None
        assert monitor.store.count_items() == 4


def test_migrations_are_recorded_and_not_reapplied(make_config, tmp_path):
    from monitor.store import open_store
    from monitor.store.db import pending_migrations

    config = make_config()
    with open_store(config.storage.path) as store:
        names = [r[0] for r in store.db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert names[:3] == ["0001_initial", "0002_tags", "0003_clusters_and_engagement"]
        assert pending_migrations(store.db) == []
        mode = store.db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    with open_store(config.storage.path) as store:  # reopening applies nothing twice
        assert store.db.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0] == len(names)


def test_a_write_waits_for_another_writer_instead_of_failing_and_foreign_keys_hold(make_config):
    """Another process writing (the service while an analyst runs sqlite-utils) makes a
    write wait, not fail with "database is locked"; a tag for no item is refused."""
    import sqlite3
    import threading
    import time

    from monitor.store import open_store
    from monitor.store.db import write

    config = make_config()
    with open_store(config.storage.path) as store:
        other = sqlite3.connect(str(config.storage.path), isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute("CREATE TABLE scratch (x)")
        released = threading.Event()

        def release_later() -> None:
            time.sleep(1.0)
            other.execute("COMMIT")
            released.set()

        threading.Thread(target=release_later, daemon=True).start()
        with write(store.db):  # blocks until the other writer commits (busy_timeout), then goes on
            store.db.execute("INSERT INTO scratch VALUES (1)")
        assert released.is_set()
        assert store.db.execute("SELECT COUNT(*) FROM scratch").fetchone()[0] == 1
        other.close()
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            with write(store.db):
                store.db.execute("INSERT INTO item_tags (item_id, kind, value, tagger_version)"
                                 " VALUES ('no-such-item', 'platform', 'x', '1')")

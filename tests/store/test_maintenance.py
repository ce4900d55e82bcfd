"""Daily maintenance: integrity, backups (consistent, rotated, never half-written),
retention of old Reddit content and run records."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest

from monitor.app import Monitor, open_monitor
from monitor.errors import StorageError
from monitor.store import Run, maintenance
from monitor.types import FetchState, Item, Source
from tests.servicetools import query

NOW = datetime(2026, 6, 10, 2, 40, tzinfo=timezone.utc)


def clock_at(moment: datetime):
    state = {"now": moment}

    def clock() -> datetime:
        return state["now"]

    clock.state = state  # type: ignore[attr-defined]
    return clock


def store_items(monitor, source: Source, items: list[Item], now: datetime) -> None:
    """Store a batch through the same call the collection loop uses."""
    monitor.store.sync_sources([*monitor.sources, source], now)
    monitor.store.save_batch(source, items, FetchState(source.id), Run("c1", source.id, now, now, "ok"), now)


def reddit_post(n: int, published: datetime) -> Item:
    # Invented posts: no real subreddit, user or text.
    return Item(id=f"t3_invented{n}", source_id="reddit_subreddit:invented", url=f"https://www.reddit.com/r/invented/{n}",
                title=f"Invented post {n}", text="Invented text for a retention test.", published_at=published)


def test_maintenance_checks_backs_up_and_applies_retention(make_config, tmp_path):
    clock = clock_at(NOW)
    config = make_config(service={"reddit_retention_days": 30, "runs_retention_days": 90, "backup_keep": 2})
    with open_monitor(config, clock=clock) as monitor:
        reddit = Source("reddit_subreddit:invented", "reddit_subreddit", "r/invented")
        store_items(monitor, reddit, [reddit_post(1, NOW - timedelta(days=40)),
                                      reddit_post(2, NOW - timedelta(days=5))], NOW)
        news = Source("feed:invented-news", "feed", "Invented news")
        store_items(monitor, news, [Item(id="n1", source_id=news.id, url="https://news.invented.test/1",
                                         title="Old news", text="Old but kept", published_at=NOW - timedelta(days=400))],
                    NOW)
        monitor.store.db.execute("UPDATE runs SET started_at = '2026-01-01T00:00:00Z' WHERE source_id = ?", [news.id])
        assert monitor.maintenance_due()

        run = monitor.maintain()

        assert (run.status, run.integrity, run.pruned_reddit, run.pruned_runs) == ("ok", "ok", 1, 1)
        remaining = {row[0] for row in monitor.store.db.execute("SELECT id FROM items")}
        assert remaining == {"t3_invented2", "n1"}  # old Reddit gone, recent Reddit and old news kept
        assert not monitor.store.db.execute(
            "SELECT 1 FROM item_sources WHERE item_id = 't3_invented1'").fetchall()  # links went with it
        assert not monitor.maintenance_due()  # once a day

        backup = monitor.backup_dir / "monitor-20260610T024000Z.db"
        assert run.backup_path == str(backup) and backup.stat().st_size == run.backup_bytes
        # The backup is a complete, standalone database with what was there when it was taken.
        assert query(backup, "PRAGMA integrity_check") == [("ok",)]
        assert {r[0] for r in query(backup, "SELECT id FROM items")} == remaining

        for hours in (24, 48, 72):  # three more days: only the newest two backups are kept
            clock.state["now"] = NOW + timedelta(hours=hours)
            assert monitor.maintenance_due()
            monitor.maintain()
        names = [p.name for p in maintenance.backups(monitor.backup_dir)]
        assert names == ["monitor-20260612T024000Z.db", "monitor-20260613T024000Z.db"]
        assert query(config.storage.path, "SELECT COUNT(*) FROM maintenance_runs") == [(4,)]


def test_a_backup_interrupted_midway_leaves_no_file_that_looks_good(make_config):
    with open_monitor(make_config()) as monitor:
        folder = monitor.backup_dir
        folder.mkdir(parents=True)
        leftover = folder / "monitor-20260101T000000Z.db.partial"  # as a kill -9 during VACUUM INTO leaves
        leftover.write_bytes(b"half a database")
        path, _size = monitor.backup()
        maintenance.rotate_backups(folder, keep=5)
        assert not leftover.exists()
        assert maintenance.backups(folder) == [path]
        # The copy is aborted part-way (as `stop` interrupts it): no backup file appears.
        target = folder / "interrupted.db"
        monitor.store.db.conn.set_progress_handler(lambda: 1, 1)  # aborts the statement, like interrupt()
        try:
            with pytest.raises(StorageError, match="backup to .* failed"):
                maintenance.backup(monitor.store.db, target)
        finally:
            monitor.store.db.conn.set_progress_handler(None, 1)
        assert not target.exists() and not list(folder.glob("*.partial"))


def test_a_corrupt_database_is_reported_and_not_backed_up_over_good_backups(make_config, tmp_path, caplog):
    config = make_config(service={"backup_keep": 1})
    with open_monitor(config) as monitor:
        source = Source("feed:invented", "feed", "Invented")
        items = [Item(id=f"i{n}", source_id=source.id, url=f"https://news.invented.test/{n}", title=f"Story {n}",
                      text="x" * 2000, published_at=NOW) for n in range(300)]
        store_items(monitor, source, items, NOW)
        good, _ = monitor.backup()
    # Damage the file as a failing disk would: overwrite pages in the middle of it.
    broken = tmp_path / "broken.db"
    shutil.copy(good, broken)
    with broken.open("r+b") as handle:
        handle.seek(4096 * 20)
        handle.write(b"\x00\x13" * 8192)
    config = make_config(storage={"path": str(broken)}, service={"backup_keep": 1, "backup_dir": str(good.parent)})
    from monitor.store import Store
    from monitor.store.db import connect

    monitor = Monitor(config, Store(connect(broken), broken))
    try:
        run = monitor.maintain()
    finally:
        monitor.close()
    assert run.status == "failed" and run.integrity != "ok" and run.backup_path is None
    assert maintenance.backups(good.parent) == [good]  # the good backup is still there
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("integrity check failed" in e and "restore the newest backup" in e for e in errors), errors


def test_the_backup_refuses_when_the_disk_is_too_full(make_config, monkeypatch):
    # The one thing not reproducible here is a full disk: report a tiny free space.
    with open_monitor(make_config()) as monitor:
        monkeypatch.setattr(shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
        with pytest.raises(StorageError, match="not enough free disk"):
            monitor.backup()
        assert not monitor.backup_dir.exists() or not list(monitor.backup_dir.iterdir())


def test_retention_deletes_in_small_transactions(make_config):
    with open_monitor(make_config()) as monitor:
        source = Source("reddit_subreddit:invented", "reddit_subreddit", "r/invented")
        store_items(monitor, source, [reddit_post(n, NOW - timedelta(days=100)) for n in range(1200)], NOW)
        writes = []
        monitor.store.db.conn.set_trace_callback(lambda sql: writes.append(sql) if sql == "BEGIN IMMEDIATE" else None)
        assert maintenance.prune_items(monitor.store.db, "reddit", NOW, batch=500) == 1200
        monitor.store.db.conn.set_trace_callback(None)
        assert len(writes) == 3  # 500 + 500 + 200: collection can write between them
        assert monitor.store.count_items() == 0
        assert query(monitor.store.path, "SELECT COUNT(*) FROM item_sources") == [(0,)]


def test_retention_refreshes_or_dissolves_the_clusters_of_deleted_reddit_items(make_config):
    from monitor.store import clusters
    from monitor.store.db import write

    with open_monitor(make_config(service={"reddit_retention_days": 30}), clock=clock_at(NOW)) as monitor:
        reddit = Source("reddit_subreddit:invented", "reddit_subreddit", "r/invented")
        old, recent = NOW - timedelta(days=40), NOW - timedelta(days=2)
        store_items(monitor, reddit, [reddit_post(1, old), reddit_post(2, old), reddit_post(3, recent)], NOW)
        news = Source("feed:invented-news", "feed", "Invented news")
        store_items(monitor, news, [
            Item(id=f"n{n}", source_id=news.id, url=f"https://news.invented.test/{n}", title=f"Invented story {n}",
                 text="Invented text.", published_at=recent) for n in (1, 2)], NOW)
        db = monitor.store.db
        with write(db):
            # A story told by an old Reddit post (its headline), a recent one and a news item ...
            clusters.join(db, "t3_invented3", "t3_invented1", NOW)
            clusters.join(db, "n1", "t3_invented1", NOW)
            # ... and one only an old Reddit post shares with a news item.
            clusters.join(db, "n2", "t3_invented2", NOW)
        assert query(monitor.store.path, "SELECT id, size, title FROM clusters ORDER BY id") == [
            ("t3_invented1", 3, "Invented post 1"), ("t3_invented2", 2, "Invented post 2")]

        assert monitor.maintain().pruned_reddit == 2

        # The first story lost its old post: two members left, its headline now the earliest left.
        assert query(monitor.store.path, "SELECT id, size, title FROM clusters") == [
            ("t3_invented1", 2, "Invented story 1")]
        assert query(monitor.store.path, "SELECT id, cluster_id FROM items ORDER BY id") == [
            ("n1", "t3_invented1"), ("n2", None), ("t3_invented3", "t3_invented1")]

"""Migration 0014_statistic_of: what a quoted figure is of is stored, old rows keep working,
and quoted_statistics lists relevant items' figures only."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database

from monitor.store import open_store
from monitor.store.schema import migrations
from monitor.store.tags import save_tags
from monitor.types import Statistic, Tags

NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)


def _item(db: Database, item_id: str, relevant: int) -> None:
    """One item of an invented source, written with plain SQL (as any schema version holds it)."""
    db.execute("INSERT OR IGNORE INTO sources (id, kind, name, created_at, updated_at)"
               " VALUES ('feed:x', 'feed', 'X', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')")
    at = "2026-11-28T10:00:00Z"
    db.execute(
        "INSERT INTO items (id, source_id, url, title, text, published_at, collected_at, updated_at, content_hash,"
        " relevant) VALUES (?, 'feed:x', ?, 't', 'x', ?, ?, ?, 'h', ?)",
        [item_id, f"https://x.test/{item_id}", at, at, at, relevant],
    )


def test_an_older_database_gains_the_column_and_keeps_its_figures(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="0014_statistic_of")
    _item(old, "a", 1)
    old.execute("INSERT INTO item_statistics (item_id, value, number, unit, sentence, tagger_version)"
                " VALUES ('a', '37%', 37, '%', 'It was 37% of cases.', 'old')")
    old.conn.commit()
    old.close()
    with open_store(path) as store:
        names = [r[0] for r in store.db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert "0014_statistic_of" in names
        assert store.db.execute('SELECT figure, "of" FROM quoted_statistics').fetchall() == [("37%", None)]


def test_figures_are_stored_with_what_they_are_of(tmp_path: Path) -> None:
    with open_store(tmp_path / "m.db") as store:
        db = store.db
        stats = (Statistic("37%", 37.0, "%", "37% of cases.", of="cases"),
                 Statistic("€20 million", 2e7, "EUR", "€20 million fines.", of="fines"),
                 Statistic("1,220", 1220.0, "offences", "1,220 offences."))
        with db.conn:
            _item(db, "rel", 1)
            _item(db, "not", 0)
            save_tags(db, "rel", Tags(relevant=True, score=0.9, statistics=stats, version="v"), NOW)
            save_tags(db, "not", Tags(relevant=False, score=0.1, statistics=(
                Statistic("40%", 40.0, "%", "Bookings rose 40%."),), version="v"), NOW)
        stored = db.execute('SELECT item_id, value, "of" FROM item_statistics ORDER BY id').fetchall()
        assert stored == [("rel", "37%", "cases"), ("rel", "€20 million", "fines"), ("rel", "1,220", None),
                          ("not", "40%", None)]  # every item's figures are kept ...
        quoted = db.execute('SELECT figure, "of" FROM quoted_statistics ORDER BY figure').fetchall()
        assert quoted == [("1,220", None), ("37%", "cases"), ("€20 million", "fines")]  # ... the team sees relevant ones

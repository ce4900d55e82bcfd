"""Rules with a full-text `query` (FTS5 over title and text, the `items_fts` index)."""

from __future__ import annotations

from datetime import datetime, timezone

from monitor.app import Monitor
from monitor.config import config_from_dict
from monitor.store import open_store
from tests.alerts.conftest import Clock
from tests.alerts.history import History
from tests.helpers import rows

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
CHARITY = {"name": "Minister names the charity", "query": '"Safe Harbour Trust" AND (minister OR secretary)',
           "relevant_only": False}
SNAP = {"name": "Snapchat", "platforms": ["snapchat"]}


def test_without_the_search_index_a_query_rule_says_so_and_the_others_still_alert(tmp_path):
    path = tmp_path / "monitor.db"
    history = History(path, NOW)
    history.add("Wirecast", NOW, title="Minister thanks the Safe Harbour Trust", relevant=False)
    history.add("Wirecast", NOW, topics=["grooming"], platforms=["snapchat"], title="A Snapchat grooming case")
    history.flush()
    history.close()
    config = config_from_dict({"storage": {"path": str(path)},
                               "alerts": {"spikes": False, "source_health": False, "rules": [CHARITY, SNAP]}})
    with Monitor(config, open_store(path), clock=Clock(NOW)) as app:
        app.store.db.execute("DROP TABLE IF EXISTS items_fts")  # a database without the full-text index
        report = app.run_alerts(send=False)
        assert [a.title for a in report.created] == ['Priority rule "Snapchat": new story']
        assert ("rule(s) 'Minister names the charity' need the full-text index (items_fts), which this database"
                " lacks; not matched") in report.summary()
        assert [r["rule"] for r in rows(app, "SELECT rule FROM alerts")] == ["Snapchat"]

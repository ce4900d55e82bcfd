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


def test_a_query_rule_alerts_the_story_whose_text_matches_once(server, smtp_server, make_config, tmp_path):
    """The full-text index (items_fts) decides: phrase AND (word OR word), with tag lists too."""
    from datetime import timedelta

    from click.testing import CliRunner

    from monitor.app import open_monitor
    from monitor.cli import main
    from tests.alerts.feeds import SEXTORTION, Entry, serve

    charity = ("Minister praises Safe Harbour Trust's work with children online",
               "The safeguarding minister told MPs the Safe Harbour Trust had helped thousands of children spot"
               " online grooming, and promised the charity new funding.")
    shop = ("Safe Harbour Trust opens a charity shop in Castlebridge",
            "Volunteers of the Safe Harbour Trust opened a second-hand bookshop on the high street on Saturday.")
    bridge = ("Minister opens the new Castlebridge bridge", "The transport minister cut the ribbon on Monday.")
    clock = Clock(NOW)
    at = NOW - timedelta(minutes=30)
    gazette = serve(server, "/gazette.xml", "Northshire Gazette", [
        Entry(*charity, "https://gazette.example/minister-charity", at),
        Entry(*shop, "https://gazette.example/shop", at), Entry(*bridge, "https://gazette.example/bridge", at),
        Entry(*SEXTORTION, "https://gazette.example/sextortion", at)])
    echo = serve(server, "/echo.xml", "Harbourton Echo", [
        Entry(f"{charity[0]} - Harbourton Echo", charity[1], "https://echo.example/minister-charity", at)])
    rules = [CHARITY, {"name": "Snapchat blackmail", "platforms": ["snapchat"], "query": "blackmail* OR demanded"}]
    config = make_config(feeds=[{"name": "Northshire Gazette", "url": gazette},
                                {"name": "Harbourton Echo", "url": echo}],
                         email=smtp_server.email_config(),
                         alerts={"spikes": False, "source_health": False, "rules": rules})
    with open_monitor(config, clock=clock) as monitor:
        monitor.collect()
        recorded = rows(monitor, "SELECT rule, title FROM alerts ORDER BY id")
        clock.advance(minutes=30)
        monitor.collect()
        assert len(rows(monitor, "SELECT * FROM alerts")) == 2
    assert recorded == [
        {"rule": "Minister names the charity",
         "title": 'Priority rule "Minister names the charity": new story carried by 2 outlets'},
        {"rule": "Snapchat blackmail", "title": 'Priority rule "Snapchat blackmail": new story'},
    ]
    assert len(smtp_server.received) == 1  # both, due together, in one message
    text = smtp_server.received[0].message.get_body(("plain",)).get_content()
    assert charity[0] in text and "also Harbourton Echo: https://echo.example/minister-charity" in text
    assert ("Matched rule \"Minister names the charity\": text matching '\"Safe Harbour Trust\" AND (minister OR"
            " secretary)'; relevant or not.") in text
    assert shop[0] not in text and bridge[0] not in text

    # the dry run finds the same story through the index, and says it was alerted
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{config.storage.path}"\n\n[alerts]\n\n[[alerts.rules]]\n'
                    "name = 'Minister names the charity'\n"
                    "query = '\"Safe Harbour Trust\" AND (minister OR secretary)'\nrelevant_only = false\n",
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "alerts", "test", "Minister names the charity",
                                       "--days", "3650"])  # the CLI's clock is the real one
    assert result.exit_code == 0, result.output
    assert "1 alert would have been sent." in result.output and "--- 1 of 1 (alerted) ---" in result.output

"""The tagger inside the pipeline: collection tags items as they land, and
``monitor retag`` brings stale tags up to date, resumably."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from monitor.cli import main
from tests.helpers import open_app, rows, serve_files

# Written for these tests: one clearly relevant item, two look-alikes.
FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Test Courier (invented)</title>
<item><title>Man jailed for grooming 13-year-old girl he met on Snapchat</title>
<link>https://courier.test/a</link><guid isPermaLink="false">c-1</guid>
<description>A 31-year-old man from the invented town of Testbury was jailed for four years at Crown Court after
admitting sexual communication with a child. He contacted the 13-year-old on Snapchat and later moved the
conversation to WhatsApp. The NSPCC said 37% of such offences last year involved Snapchat.</description></item>
<item><title>Dog grooming salon opens on the high street</title><link>https://courier.test/b</link>
<guid isPermaLink="false">c-2</guid><description>A new salon offers baths, nail clipping and breed trims for
dogs of all sizes, and posts before-and-after photos on Instagram.</description></item>
<item><title>Ski resort grooms its pistes early</title><link>https://courier.test/c</link>
<guid isPermaLink="false">c-3</guid><description>Snowcats were out before dawn grooming the blue runs
ahead of the opening weekend.</description></item>
</channel></rss>"""


@pytest.fixture
def collected(server, make_config):
    with open_app(make_config, feeds=serve_files(server, {"courier": FEED})) as monitor:
        monitor.collect()
        yield monitor


def test_collection_tags_every_item_as_it_lands(collected):
    items = {r["url"]: r for r in rows(collected, "SELECT url, relevant, score, why, tagger_version FROM items")}
    assert all(r["tagger_version"] == collected.tagger.version for r in items.values())
    assert items["https://courier.test/a"]["relevant"] == 1
    assert items["https://courier.test/b"]["relevant"] == 0 and items["https://courier.test/c"]["relevant"] == 0
    assert "groom" in items["https://courier.test/b"]["why"]  # the reason is stored and readable
    tags = {(r["kind"], r["value"]) for r in rows(
        collected, "SELECT kind, value FROM item_tags t JOIN items i ON i.id = t.item_id WHERE i.url = ?",
        ["https://courier.test/a"])}
    assert ("topic", "grooming") in tags and ("platform", "snapchat") in tags and ("platform", "whatsapp") in tags
    stats = rows(collected, 'SELECT value, unit, "of", sentence FROM item_statistics')
    assert any(s["value"] == "37%" and s["of"] == "offences" and "Snapchat" in s["sentence"] for s in stats)
    # "grooming items per platform per day" is one simple query
    per_platform = rows(collected, """
        SELECT date(i.published_at) AS day, p.value AS platform, COUNT(*) AS n
        FROM items i JOIN item_tags t ON t.item_id = i.id AND t.kind = 'topic' AND t.value = 'grooming'
        JOIN item_tags p ON p.item_id = i.id AND p.kind = 'platform'
        WHERE i.relevant = 1 GROUP BY day, platform ORDER BY platform""")
    assert [r["platform"] for r in per_platform] == ["snapchat", "whatsapp"]


def test_retag_updates_stale_items_and_resumes_after_interruption(collected):
    db = collected.store.db
    db.execute("UPDATE items SET tagger_version = 'old', relevant = NULL")
    db.execute("DELETE FROM item_tags")
    calls = []

    def interrupt(done, total):
        calls.append((done, total))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        collected.retag(batch=1, on_progress=interrupt)
    assert calls == [(1, 3)]
    assert rows(collected, "SELECT COUNT(*) AS n FROM items WHERE tagger_version = 'old'")[0]["n"] == 2
    result = collected.retag(batch=1)
    assert result.tagged == 2
    assert rows(collected, "SELECT COUNT(*) AS n FROM items WHERE tagger_version = ?",
                [collected.tagger.version])[0]["n"] == 3
    assert rows(collected, "SELECT COUNT(*) AS n FROM item_tags WHERE value = 'snapchat'")[0]["n"] == 1


def test_retag_all_resumes_instead_of_starting_over(collected):
    with pytest.raises(KeyboardInterrupt):
        collected.retag(all_items=True, batch=2, on_progress=lambda done, total: (_ for _ in ()).throw(KeyboardInterrupt))
    assert collected.store.get_setting("retag_all_done_through") is not None
    result = collected.retag(all_items=True, batch=2)
    assert result.tagged == 1  # only the item the interrupted run had not reached
    assert collected.store.get_setting("retag_all_done_through") is None
    assert collected.retag().tagged == 0  # nothing stale left


def test_retag_cli_shows_progress_and_a_summary(collected, tmp_path):
    collected.store.db.execute("UPDATE items SET tagger_version = 'old'")
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{collected.store.path}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "retag"])
    assert result.exit_code == 0, result.output
    assert "3 items re-tagged" in result.output and collected.tagger.version in result.output


def test_retag_draws_a_progress_bar_on_a_terminal(collected, tmp_path):
    """On a terminal (pseudo-terminal here) the operator sees the bar move batch by batch."""
    import os
    import pty
    import subprocess
    import sys

    collected.store.db.execute("UPDATE items SET tagger_version = 'old'")
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{collected.store.path}"\n', encoding="utf-8")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), "retag", "--batch", "1"],
                              stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL, timeout=120,
                              env={**os.environ, "COLUMNS": "100"}, text=True)
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: all read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0, drawn
    screen = drawn.decode("utf-8", "replace")
    assert f"Re-tagging with tagger {collected.tagger.version}" in screen
    assert "1/3" in screen and "2/3" in screen and "3/3" in screen  # redrawn after every batch
    assert "3 items re-tagged" in done.stdout

"""Source health never says all is well when it is not: sources never collected.

A source that has never brought anything in (Reddit configured without credentials,
skipped every cycle) has no last success, no items and no failures; it must be
reported, with the reason, once it has had time to be collected, and counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitor.app import open_monitor
from monitor.config import DigestConfig
from monitor.demo.server import static
from monitor.digest.build import source_health
from monitor.store.digest import SourceRow, source_rows
from monitor.store.state import Run
from monitor.types import FetchState, to_iso
from tests.digest.builder import DigestDB
from tests.helpers import reddit_section
from tests.servicetools import invented_rss

ADDED = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)  # Wednesday


def test_reddit_without_credentials_is_reported_as_never_collected(server, reddit_api, make_config, monkeypatch,
                                                                   tmp_path):
    monkeypatch.delenv("REDDIT_CLIENT_SECRET")
    url = server.route("/gazette.xml", static(invented_rss("Gazette", 2)))
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]),
                         feeds=[{"name": "Gazette", "url": url}], digest={"archive_dir": str(tmp_path / "archive")})
    clock = [ADDED]
    with open_monitor(config, clock=lambda: clock[0]) as app:
        app.collect()
        clock[0] = ADDED + timedelta(hours=2)
        app.collect(force=True)
        # a source just added has until [digest] silent_min_hours (24) to bring something in
        early = app.build_digest(ADDED.date())
        clock[0] = datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc)
        app.collect(force=True)
        built = app.build_digest()
        counts = app.store.db.execute("SELECT counts FROM digests WHERE date = '2026-11-28'").fetchone()[0]
    assert reddit_api.api_calls() == []
    assert early.digest.health.problems == () and early.digest.health.summary == "All 2 sources are working normally."

    health = built.digest.health
    (problem,) = health.problems
    assert (problem.state, problem.label, problem.name) == ("never", "never collected", "r/Parenting")
    assert problem.summary == "Nothing has been collected from it since it was added on Wed 25 Nov 09:00 (3 days ago)."
    assert "Reddit credentials missing: REDDIT_CLIENT_SECRET" in problem.detail
    assert health.summary == "1 of 2 sources needs attention (1 never collected); the other one is working normally."
    assert '"never_collected_sources": 1' in counts

    text = built.text
    assert "All 2 sources are working normally" not in text and "All 2 sources are working normally" not in built.html
    assert "WARNING: 1 source is not being collected (see Source health)." in text
    assert "NEVER COLLECTED: r/Parenting" in text and "  Why: Reddit credentials missing: REDDIT_CLIENT_SECRET" in text
    reddit = text[text.index("== On Reddit =="):text.index("== Source health ==")]
    assert "No relevant Reddit threads today." in reddit
    assert "The Reddit source is not being collected: see Source health." in reddit  # not a quiet day
    html = " ".join(built.html.split())
    assert "1 source is not being collected" in html and health.summary in html and ">never collected<" in html


def test_the_reason_is_the_last_runs_note_or_the_last_error(tmp_path):
    now = ADDED + timedelta(days=3)
    db = DigestDB(tmp_path / "monitor.db", now)
    skipped = db.source("r/Parenting", kind="reddit_subreddit", url="https://reddit.test/r/Parenting",
                        created=ADDED)
    db.store.record_run(FetchState(skipped.id), Run("c1", skipped.id, now, now, "skipped",
                                                    error="Reddit credentials missing: REDDIT_CLIENT_ID"))
    erred = db.source("Bluesky search: grooming", kind="bluesky", url="https://bsky.test/search", created=ADDED)
    db.store.record_run(FetchState(erred.id, last_error="login refused: check BLUESKY_APP_PASSWORD",
                                   last_error_at=now), Run("c1", erred.id, now, now, "skipped"))
    unknown = db.source("Hansard: grooming", kind="hansard", url="https://hansard.test/search", created=ADDED)
    db.source("Late Feed", created=now - timedelta(hours=3))  # added three hours ago
    working = db.source("Gazette", created=ADDED)
    db.item(working, "An invented story", hours_ago=3, relevant=False)
    rows = source_rows(db.store.db, (to_iso(now - timedelta(days=28)), to_iso(now)))
    db.close()
    assert {row.name: row.collected for row in rows} == {
        "r/Parenting": False, "Bluesky search: grooming": False, "Hansard: grooming": False, "Late Feed": False,
        "Gazette": True}

    health = source_health(rows, now, DigestConfig())
    found = {p.name: (p.state, p.detail) for p in health.problems}
    assert found == {
        "Bluesky search: grooming": ("never", "login refused: check BLUESKY_APP_PASSWORD"),
        "Hansard: grooming": ("never", None),
        "r/Parenting": ("never", "Reddit credentials missing: REDDIT_CLIENT_ID"),
    }
    assert "Late Feed" not in found and unknown.name in found  # a source added 3 hours ago has time yet
    hansard = next(p for p in health.problems if p.name == "Hansard: grooming")
    assert hansard.summary.endswith("no collection has reached it yet. Is the service running?")
    assert health.summary == ("3 of 5 sources need attention (3 never collected); the other 2 are working normally.")
    assert health.gaps == {"reddit": "The Reddit source is not being collected: see Source health.",
                           "social": "The social media source is not being collected: see Source health.",
                           "parliament": "The Hansard source is not being collected: see Source health."}


def source(name: str, kind: str = "feed", **values) -> SourceRow:
    base = dict(id=f"{kind}:{name}", name=name, kind=kind, created_at=ADDED - timedelta(days=60), failures=0,
                last_error=None, last_error_at=None, last_success_at=ADDED - timedelta(minutes=30), next_due_at=None,
                gone_at=None, failing_since=None, items=2, usual_gap_hours=None, last_item_at=ADDED)
    base.update(values)
    return SourceRow(**base)


NEVER = {"collected": False, "last_success_at": None, "items": 0, "last_item_at": None}


@pytest.mark.parametrize(("rows", "summary"), [
    ([], "No sources are configured."),
    ([source("A")], "The one source is working normally."),
    ([source("A"), source("B")], "All 2 sources are working normally."),
    ([source("A", **NEVER)], "1 of 1 source needs attention (1 never collected)."),
    ([source("A", **NEVER), source("B", gone_at=ADDED)],
     "2 of 2 sources need attention (1 gone, 1 never collected)."),
    ([source("A", failures=2, last_error="timed out", failing_since=ADDED), source("B"), source("C")],
     "1 of 3 sources needs attention (1 failing); the other 2 are working normally."),
])
def test_the_health_summary_counts_in_plain_words(rows, summary):
    assert source_health(rows, ADDED, DigestConfig()).summary == summary


def test_a_source_type_partly_down_is_said_in_its_sections():
    rows = [source("r/a", "reddit_subreddit", **NEVER), source("r/b", "reddit_subreddit"),
            source("r/c", "reddit_search", failures=1, failing_since=ADDED, last_error="HTTP 503"),
            source("Gazette"), source("Quiet", items=0, last_item_at=None, created_at=ADDED - timedelta(days=30))]
    health = source_health(rows, ADDED, DigestConfig())
    assert health.gaps == {"reddit": "2 of the 3 Reddit sources are not being collected: see Source health."}
    assert health.not_collected == 2  # a silent source still answers: it is not counted as not collected

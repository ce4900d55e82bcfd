"""Source health: a source whose server starts failing raises one alert once it has
failed for [alerts] failing_hours, and one recovery line when it works again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from monitor.alerts import health
from monitor.app import open_monitor
from monitor.demo.server import LocalServer, Reply
from monitor.digest.build import SourceProblem
from tests.alerts.conftest import Clock
from tests.alerts.feeds import DOG_GROOMING, Entry, serve
from tests.helpers import rows

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


def one_problem_then_recovery(recorded, smtp_server, state: str, title: str) -> tuple[str, str]:
    """Assert exactly one problem alert then one recovery for Courtside Weekly, recorded
    and e-mailed; returns the two messages' plain-text bodies."""
    back = "Source back to normal: Courtside Weekly"
    assert recorded == [{"state": state, "title": title, "status": "sent"},
                        {"state": "recovered", "title": back, "status": "sent"}]
    assert [m.message["Subject"] for m in smtp_server.received] == [f"Alert: {title}", f"Alert: {back}"]
    problem, recovered = (m.message.get_body(("plain",)).get_content() for m in smtp_server.received)
    return problem, recovered


def test_a_failing_source_raises_one_alert_then_one_recovery_line(server: LocalServer, smtp_server, make_config,
                                                                  tmp_path):
    clock = Clock(T0)
    entries = [Entry(f"{DOG_GROOMING[0]} {n}", DOG_GROOMING[1], f"https://courtside.example/{n}",
                     T0 - timedelta(hours=n)) for n in range(3)]
    courtside = serve(server, "/courtside.xml", "Courtside Weekly", entries)
    gazette = serve(server, "/gazette.xml", "Northshire Gazette", [])
    config = make_config(feeds=[{"name": "Courtside Weekly", "url": courtside},
                                {"name": "Northshire Gazette", "url": gazette}],
                         schedule={"jitter": 0.0, "backoff_cap_hours": 1},
                         email=smtp_server.email_config(), digest={"archive_dir": str(tmp_path / "archive")},
                         alerts={"failing_hours": 2, "spikes": False})
    notes = []
    with open_monitor(config, clock=clock) as monitor:
        monitor.collect()
        server.route("/courtside.xml", lambda request: Reply(503, {"Content-Type": "text/plain"}, b"down"))
        for _hour in range(5):  # failing from T0+1h; the alert is due at T0+3h
            clock.advance(hours=1)
            report = monitor.collect()
            assert report.count("failed") == 1
            notes.append(report.notes[-1])
        assert notes[:2] == ["Alerts: none new"] * 2
        assert notes[2] == "Alerts: 1 new (1 on source health); 1 sent in 1 message by email"
        assert notes[3:] == ["Alerts: none new"] * 2
        # the digest lists it too, in its source health section
        digest = monitor.build_digest()
        assert "Courtside Weekly" in digest.text and "Failing since" in digest.text

        serve(server, "/courtside.xml", "Courtside Weekly", entries)  # back up
        clock.advance(hours=1)
        assert monitor.collect().notes[-1] == "Alerts: 1 new (1 on source health); 1 sent in 1 message by email"
        clock.advance(hours=1)
        assert monitor.collect().notes[-1] == "Alerts: none new"
        recorded = rows(monitor, "SELECT state, title, status FROM alerts ORDER BY id")
    failing, recovered = one_problem_then_recovery(recorded, smtp_server, "failing",
                                                   "Source failing for 2 hours: Courtside Weekly")
    assert "Failing since Tue 10 Mar 10:00 (3 failed attempts in a row); last worked Tue 10 Mar 09:00" in failing
    assert "Last error: HTTP 503" in failing
    assert "Recovered after failing for 5 hours." in recovered


# --- the transitions, on their own ----------------------------------------------------------

NOW = T0


def problem(source_id: str, state: str, since: datetime) -> SourceProblem:
    return SourceProblem(source_id.title(), state, f"{state} summary", None, source_id, since)


def test_failing_needs_the_configured_time_gone_and_silent_do_not():
    found = health.alertable([problem("a", "failing", NOW - timedelta(hours=5)),
                              problem("b", "failing", NOW - timedelta(hours=7)),
                              problem("c", "gone", NOW - timedelta(minutes=1)),
                              problem("d", "silent", NOW - timedelta(days=3))], NOW, failing_hours=6)
    assert sorted(found) == ["b", "c", "d"]


def test_one_alert_per_episode_and_a_recovery_when_it_ends():
    failing = {"a": problem("a", "failing", NOW - timedelta(hours=7))}
    first = health.changes(failing, {}, ["a"], NOW)
    assert [(c.state, c.title) for c in first] == [("failing", "Source failing for 7 hours: A")]
    episode = {"a": health.Episode("a", "A", "failing", NOW - timedelta(hours=7), NOW)}
    gone = {"a": problem("a", "gone", NOW)}
    assert health.changes(failing, episode, ["a"], NOW) == []  # still failing: nothing new
    assert health.changes(gone, episode, ["a"], NOW) == []  # failing, then gone: the same episode
    recovered = health.changes({}, episode, ["a"], NOW + timedelta(hours=1))
    assert [(c.state, c.lines) for c in recovered] == [("recovered", ("Recovered after failing for 8 hours.",))]
    removed = health.changes({}, episode, [], NOW)
    assert removed[0].title == "Source no longer monitored: A"


def test_a_source_never_collected_is_alerted_with_the_reason_and_its_recovery_named():
    never = SourceProblem("R/Parenting", "never", "Nothing has been collected from it since it was added.",
                          "Reddit credentials missing: REDDIT_CLIENT_ID", "reddit_subreddit:parenting",
                          NOW - timedelta(days=2), "reddit")
    (change,) = health.changes(health.alertable([never], NOW, failing_hours=6), {}, ["reddit_subreddit:parenting"],
                               NOW)
    assert change.title == "Source never collected: R/Parenting"
    assert change.lines[1] == "Why: Reddit credentials missing: REDDIT_CLIENT_ID"
    episode = {"reddit_subreddit:parenting": health.Episode("reddit_subreddit:parenting", "R/Parenting", "never",
                                                            NOW - timedelta(days=2), NOW)}
    (recovered,) = health.changes({}, episode, ["reddit_subreddit:parenting"], NOW)
    assert recovered.lines == ("Recovered after never being collected for 2 days.",)


def test_reddit_without_credentials_raises_one_never_collected_alert_naming_the_variable(
        server: LocalServer, reddit_api, smtp_server, make_config, monkeypatch, tmp_path):
    from tests.helpers import reddit_section

    monkeypatch.delenv("REDDIT_CLIENT_ID")
    clock = Clock(T0)
    gazette = serve(server, "/gazette.xml", "Northshire Gazette",
                    [Entry(DOG_GROOMING[0], DOG_GROOMING[1], "https://gazette.example/1", T0 - timedelta(hours=1))])
    config = make_config(reddit=reddit_section(reddit_api, subreddits=[{"name": "Parenting"}]),
                         feeds=[{"name": "Northshire Gazette", "url": gazette}],
                         email=smtp_server.email_config(), digest={"archive_dir": str(tmp_path / "archive")},
                         alerts={"spikes": False})
    with open_monitor(config, clock=clock) as monitor:
        monitor.collect()
        clock.advance(hours=25)  # past [digest] silent_min_hours (24)
        first = monitor.collect(force=True).notes[-1]
        clock.advance(hours=1)
        second = monitor.collect(force=True).notes[-1]
        recorded = rows(monitor, "SELECT state, title, status FROM alerts ORDER BY id")
    assert reddit_api.api_calls() == []
    assert first == "Alerts: 1 new (1 on source health); 1 sent in 1 message by email"
    assert second == "Alerts: none new"
    assert recorded == [{"state": "never", "title": "Source never collected: r/Parenting", "status": "sent"}]
    (message,) = smtp_server.received
    body = message.message.get_body(("plain",)).get_content()
    assert "Why: Reddit credentials missing: REDDIT_CLIENT_ID" in body


# --- silent and gone, end to end through collection --------------------------------------------


def test_a_source_gone_quiet_raises_one_silent_alert_then_one_recovery_line(server: LocalServer, smtp_server,
                                                                            make_config, tmp_path):
    """Seven items two hours apart, then nothing: silent once quiet for more than
    silent_multiple (3) x the usual gap (2 hours); a new item ends it."""
    clock = Clock(T0)
    entries = [Entry(f"{DOG_GROOMING[0]} {n}", DOG_GROOMING[1], f"https://courtside.example/{n}",
                     T0 - timedelta(hours=2 * n)) for n in range(7)]
    courtside = serve(server, "/courtside.xml", "Courtside Weekly", entries)
    config = make_config(feeds=[{"name": "Courtside Weekly", "url": courtside}],
                         schedule={"jitter": 0.0},
                         email=smtp_server.email_config(),
                         digest={"archive_dir": str(tmp_path / "archive"), "silent_multiple": 3,
                                 "silent_min_hours": 1},
                         alerts={"spikes": False})
    notes = []
    with open_monitor(config, clock=clock) as monitor:
        assert monitor.collect().new == 7
        for _hour in range(9):  # T0+1h ... T0+9h: quiet for more than 6 hours from T0+7h
            clock.advance(hours=1)
            report = monitor.collect(force=True)
            assert report.new == 0
            notes.append(report.notes[-1])
        assert notes[:6] == ["Alerts: none new"] * 6  # up to 6 hours quiet: its usual rhythm x 3
        assert notes[6] == "Alerts: 1 new (1 on source health); 1 sent in 1 message by email"
        assert notes[7:] == ["Alerts: none new"] * 2
        assert "Courtside Weekly" in monitor.build_digest().text  # listed in the digest's health section too

        fresh = Entry(f"{DOG_GROOMING[0]} again", DOG_GROOMING[1], "https://courtside.example/again",
                      clock.now - timedelta(minutes=20))
        serve(server, "/courtside.xml", "Courtside Weekly", [fresh, *entries])  # items come again
        clock.advance(hours=1)
        report = monitor.collect(force=True)
        assert report.new == 1
        assert report.notes[-1] == "Alerts: 1 new (1 on source health); 1 sent in 1 message by email"
        clock.advance(hours=1)
        assert monitor.collect(force=True).notes[-1] == "Alerts: none new"
        recorded = rows(monitor, "SELECT state, title, status FROM alerts ORDER BY id")
    silent, recovered = one_problem_then_recovery(recorded, smtp_server, "silent", "Source silent: Courtside Weekly")
    assert "No new items for 7 hours (usually one every 2 hours)" in silent
    assert "Recovered after being silent for 10 hours." in recovered


def test_a_source_answering_410_raises_one_gone_alert(server: LocalServer, smtp_server, make_config, tmp_path):
    clock = Clock(T0)
    entries = [Entry(f"{DOG_GROOMING[0]} {n}", DOG_GROOMING[1], f"https://courtside.example/{n}",
                     T0 - timedelta(hours=n)) for n in range(3)]
    courtside = serve(server, "/courtside.xml", "Courtside Weekly", entries)
    gazette = serve(server, "/gazette.xml", "Northshire Gazette", [])
    config = make_config(feeds=[{"name": "Courtside Weekly", "url": courtside},
                                {"name": "Northshire Gazette", "url": gazette}],
                         schedule={"jitter": 0.0},
                         email=smtp_server.email_config(), digest={"archive_dir": str(tmp_path / "archive")},
                         alerts={"spikes": False})
    notes = []
    with open_monitor(config, clock=clock) as monitor:
        monitor.collect()
        server.route("/courtside.xml", lambda request: Reply(410, {"Content-Type": "text/plain"}, b"gone"))
        for _hour in range(3):
            clock.advance(hours=1)
            notes.append(monitor.collect(force=True).notes[-1])
        recorded = rows(monitor, "SELECT state, source_id, title, status FROM alerts ORDER BY id")
        digest = monitor.build_digest().text
    assert notes == ["Alerts: 1 new (1 on source health); 1 sent in 1 message by email",
                     "Alerts: none new", "Alerts: none new"]
    assert recorded == [{"state": "gone", "source_id": "feed:courtside-weekly",
                         "title": "Source gone: Courtside Weekly no longer exists (HTTP 410)", "status": "sent"}]
    (message,) = smtp_server.received
    assert message.message["Subject"] == "Alert: Source gone: Courtside Weekly no longer exists (HTTP 410)"
    body = message.message.get_body(("plain",)).get_content()
    assert "the server says this feed no longer exists (HTTP 410)" in body
    assert "Courtside Weekly" in digest

"""Collecting Hansard end to end: the collector -> a fake Hansard API on 127.0.0.1 -> SQLite.

The fake API (monitor.demo.hansard_api) replays the search response recorded from the
real Hansard API in ../shared/fixtures/parliament (tests marked ``shared``), and serves
our own invented contributions from tests/data/parliament, so every behaviour is
covered without ../shared too.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import date, datetime, timedelta, timezone

import pytest

from monitor.app import open_monitor
from monitor.config import HansardConfig
from monitor.demo.fake_api import json_reply, recorded_reply
from monitor.demo.hansard_api import SEARCH_PATH
from monitor.demo.server import Reply
from monitor.sources.hansard import contribution_url, search_window, split_attribution, title_slug
from monitor.types import from_iso
from tests.conftest import shared_path
from tests.helpers import our_data, rows, serve_files

RECORDED = ("fixtures", "parliament", "hansard_search_contributions_spoken_artificial_superintelligence_2026-06-30.json")


def no_tags(items):
    return {}


def ours():
    data = our_data("parliament", "ours_contributions.json")
    return from_iso(data["now"]), data["results"]


WORDS = ("council school parents police platform ofcom minister report children safety messages account app "
         "evidence court teacher charity figures review guidance duty risk codes enforcement year local").split()


def many(template: dict, count: int, prefix: str) -> list[dict]:
    """``count`` distinct contributions like ``template`` (distinct text, so that they are
    not grouped as syndicated copies of one story), over five sitting days."""
    import random

    made = []
    for n in range(count):
        rng = random.Random(n)
        contribution = copy.deepcopy(template)
        contribution["ContributionExtId"] = f"7C0FFEE0-{prefix}-4BBB-8CCC-{n:012d}"
        contribution["SittingDate"] = (date(2026, 3, 11) - timedelta(days=n % 5)).isoformat() + "T00:00:00"
        contribution["ContributionTextFull"] = "On grooming: " + " ".join(rng.choice(WORDS) for _ in range(40))
        made.append(contribution)
    return made


def hansard_section(api, *queries: str, **overrides) -> dict:
    return {"api_url": api.base_url, "searches": [{"query": q} for q in queries], **overrides}


# --- the recorded response (../shared) ---------------------------------------------------------


@pytest.mark.shared
def test_recorded_search_lands_as_two_contributions_with_member_debate_and_link(hansard_api, make_config):
    body = shared_path(*RECORDED).read_bytes()
    hansard_api.reply(SEARCH_PATH, recorded_reply(200, {"Content-Type": "application/json; charset=utf-8"}, body))
    config = make_config(hansard=hansard_section(hansard_api, '"artificial superintelligence"'))
    now = datetime(2026, 7, 1, 8, 0, tzinfo=timezone.utc)
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        # TotalResultCount is 2 while SpokenResultCount is 0: counting with the latter would read nothing.
        assert (result.status, result.new) == ("ok", 2), result.error
        items = {r["id"]: r for r in rows(monitor, "SELECT * FROM items")}
        doocey = items["hansard:49EB98DC-E047-4BD3-80F9-12611A77B9DE"]
        assert doocey["media"] == "parliament"
        assert doocey["title"] == "Baroness Doocey (LD) \u2014 National Security (State Threats) Bill"
        assert doocey["author"] == "Baroness Doocey"
        assert doocey["published_at"] == "2026-06-30T12:00:00Z"  # the sitting date (Hansard gives no time)
        assert doocey["url"] == ("https://hansard.parliament.uk/Lords/2026-06-30/debates/"
                                 "A9B3AF3E-F1BD-4588-90E6-FE3100192187/NationalSecurityStateThreatsBill"
                                 "#contribution-49EB98DC-E047-4BD3-80F9-12611A77B9DE")
        hanson = items["hansard:A88273A2-F29D-4D82-A72F-A85423858FB5"]
        # The full text, its inline column markers and emphasis stripped, paragraphs kept.
        assert "<span" not in hanson["text"] and "<em>" not in hanson["text"] and "\r" not in hanson["text"]
        assert hanson["text"].startswith("I am grateful for that welcome from the noble Lord, Lord Alton.\n\n")
        assert len(hanson["text"]) > 250  # ContributionTextFull, not the 250-character excerpt
        assert "<span" not in hanson["summary_html"] and "<br>" in hanson["summary_html"]
        view = rows(monitor, "SELECT * FROM hansard_contributions ORDER BY member")
        assert [(v["member"], v["party"], v["house"], v["debate"], v["sitting_date"], v["section"]) for v in view] == [
            ("Baroness Doocey", "LD", "Lords", "National Security (State Threats) Bill", "2026-06-30", "Lords Chamber"),
            ("Lord Hanson of Flint", "Lab", "Lords", "National Security (State Threats) Bill", "2026-06-30",
             "Lords Chamber"),
        ]
        assert monitor.store.state("hansard:artificial-superintelligence").cursor == "2026-06-30"
    (search,) = hansard_api.searches()
    assert search == {"queryParameters.searchTerm": '"artificial superintelligence"',
                      "queryParameters.startDate": "2026-06-17", "queryParameters.endDate": "2026-07-02",
                      "queryParameters.take": "100", "queryParameters.skip": "0"}


@pytest.mark.shared
def test_recorded_results_are_one_item_each_whatever_searches_find_them(hansard_api, make_config):
    body = shared_path(*RECORDED).read_bytes()
    hansard_api.reply(SEARCH_PATH, recorded_reply(200, {"Content-Type": "application/json"}, body), times=None)
    config = make_config(hansard=hansard_section(hansard_api, "superintelligence", "national security"))
    with open_monitor(config, clock=lambda: datetime(2026, 7, 1, tzinfo=timezone.utc), tag=no_tags) as monitor:
        results = monitor.collect().results
        assert sorted((r.new, r.seen) for r in results) == [(0, 2), (2, 0)]
        assert monitor.store.count_items() == 2
        links = rows(monitor, "SELECT item_id, COUNT(*) AS n FROM item_sources GROUP BY item_id")
        assert [link["n"] for link in links] == [2, 2]


# --- our own contributions (tests/data) --------------------------------------------------------------


def test_our_contributions_land_with_member_party_house_debate_text_and_link(hansard_api, make_config, caplog):
    now, results = ours()
    for result in results:
        hansard_api.add(result)
    config = make_config(hansard=hansard_section(hansard_api, "grooming"))
    with caplog.at_level(logging.WARNING), open_monitor(config, clock=lambda: now) as monitor:
        (result,) = monitor.collect().results
        assert (result.status, result.new) == ("ok", 5), result.error
        assert ("skipped: no contribution id, sitting date or text ('Nobody (Ind)' in 'Online Safety Act 2023:"
                " Enforcement')") in caplog.text
        view = {v["id"]: v for v in rows(monitor, "SELECT * FROM hansard_contributions")}
        vale = view["hansard:7C0FFEE0-AAAA-4BBB-8CCC-000000000001"]
        assert (vale["member"], vale["party"], vale["house"], vale["section"]) == (
            "Imogen Vale", "Lab", "Commons", "Commons Chamber")
        assert vale["debate"] == "Online Safety Act 2023: Enforcement" and vale["sitting_date"] == "2026-03-11"
        assert "Ofcom & the Government must act." in vale["text"] and "<em>" not in vale["text"]
        assert vale["url"] == ("https://hansard.parliament.uk/Commons/2026-03-11/debates/"
                               "0AE5C0DE-1111-4A2B-9C3D-5E6F7A8B9C01/OnlineSafetyAct2023Enforcement"
                               "#contribution-7C0FFEE0-AAAA-4BBB-8CCC-000000000001")
        minister = view["hansard:7C0FFEE0-AAAA-4BBB-8CCC-000000000004"]
        assert (minister["member"], minister["party"]) == ("Nadia Quill", None)  # an office in brackets is no party
        items = {r["id"]: r for r in rows(monitor, "SELECT id, title, relevant FROM items")}
        assert items["hansard:7C0FFEE0-AAAA-4BBB-8CCC-000000000004"]["title"] == (
            "Nadia Quill \u2014 Online Grooming: Gaming Platforms")
        # Tagged like any item: the horse-grooming peer is not about children.
        assert items["hansard:7C0FFEE0-AAAA-4BBB-8CCC-000000000001"]["relevant"] == 1
        assert items["hansard:7C0FFEE0-AAAA-4BBB-8CCC-000000000006"]["relevant"] == 0


def test_pages_are_read_with_skip_and_take_until_the_total_count(hansard_api, make_config):
    now, results = ours()
    for contribution in many(results[0], 230, "BBBB"):
        hansard_api.add(contribution)
    config = make_config(hansard=hansard_section(hansard_api, "grooming"))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        assert (result.status, result.new) == ("ok", 230)
    assert [s["queryParameters.skip"] for s in hansard_api.searches()] == ["0", "100", "200"]
    assert {s["queryParameters.take"] for s in hansard_api.searches()} == {"100"}


def test_polls_are_incremental_by_sitting_date_with_an_overlap(hansard_api, make_config):
    now, results = ours()
    for result in results:
        hansard_api.add(result)
    config = make_config(hansard=hansard_section(hansard_api, "grooming", lookback_days=10, overlap_days=2))
    clock = [now]
    with open_monitor(config, clock=lambda: clock[0], tag=no_tags) as monitor:
        assert monitor.collect().results[0].new == 5
        assert monitor.store.state("hansard:grooming").cursor == "2026-03-11"
        # A day later: a debate of the 12th, and one of the 10th published late.
        late = copy.deepcopy(results[2])
        late["ContributionExtId"] = "7C0FFEE0-AAAA-4BBB-8CCC-0000000000A1"
        fresh = copy.deepcopy(results[0])
        fresh["ContributionExtId"] = "7C0FFEE0-AAAA-4BBB-8CCC-0000000000A2"
        fresh["SittingDate"] = "2026-03-12T00:00:00"
        hansard_api.add(late)
        hansard_api.add(fresh)
        clock[0] = now + timedelta(days=1)
        second = monitor.collect(force=True).results[0]
        assert (second.status, second.new, second.seen) == ("ok", 2, 5)  # the overlap's old ones: seen, not new
        assert monitor.store.state("hansard:grooming").cursor == "2026-03-12"
        assert monitor.store.count_items() == 7
    first, again = hansard_api.searches()
    assert (first["queryParameters.startDate"], first["queryParameters.endDate"]) == ("2026-03-02", "2026-03-13")
    assert (again["queryParameters.startDate"], again["queryParameters.endDate"]) == ("2026-03-09", "2026-03-14")


def test_empty_results_are_a_quiet_success(hansard_api, make_config):
    now, _results = ours()
    config = make_config(hansard=hansard_section(hansard_api, "nothing matches this"))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        assert (result.status, result.new) == ("ok", 0)
        assert monitor.store.state("hansard:nothing-matches-this").cursor is None


def test_a_429_on_page_two_keeps_page_one_honours_retry_after_and_leaves_the_cursor(hansard_api, make_config):
    now, results = ours()
    for contribution in many(results[0], 150, "CCCC"):
        hansard_api.add(contribution)
    hansard_api.reply(SEARCH_PATH, json_reply({"message": "Rate limit is exceeded. Try again in 600 seconds."}, 429,
                                               {"Retry-After": "600"}), params={"queryParameters.skip": "100"})
    config = make_config(hansard=hansard_section(hansard_api, "grooming"))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        (result,) = monitor.collect().results
        assert result.status == "failed" and result.new == 100
        assert "Hansard rate limit (HTTP 429)" in result.error and "retry after 600 s" in result.error
        state = monitor.store.state("hansard:grooming")
        assert state.failures == 1 and state.next_due_at >= now + timedelta(seconds=600)
        assert state.cursor is None  # the window is read again in full next time
        retried = monitor.collect(force=True).results[0]
        assert (retried.status, retried.new, retried.seen) == ("ok", 50, 100)
        assert monitor.store.state("hansard:grooming").cursor == "2026-03-11"


def test_a_failing_hansard_search_never_stops_the_others_or_the_news(hansard_api, server, make_config, caplog):
    now, results = ours()
    for result in results:
        hansard_api.add(result)
    hansard_api.reply(SEARCH_PATH, Reply(503, {"Content-Type": "text/html"}, b"<html>Service Unavailable</html>"),
                      params={"queryParameters.searchTerm": "sextortion"})
    hansard_api.reply(SEARCH_PATH, Reply(200, {"Content-Type": "text/html"}, b"<!doctype html><p>maintenance</p>"),
                      params={"queryParameters.searchTerm": "Ofcom"})
    feeds = serve_files(server, {"news": shared_or_ours_feed()})
    config = make_config(feeds=feeds, hansard=hansard_section(hansard_api, "sextortion", "Ofcom", "grooming"))
    with caplog.at_level(logging.ERROR), open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        by_name = {r.source.name: r for r in monitor.collect().results}
    assert by_name["news"].status == "ok" and by_name["news"].new > 0
    assert by_name["Hansard: grooming"].status == "ok" and by_name["Hansard: grooming"].new == 5
    assert by_name["Hansard: sextortion"].status == "failed"
    assert by_name["Hansard: sextortion"].error == "Hansard answered HTTP 503 for the search 'sextortion'"
    assert by_name["Hansard: Ofcom"].error == "Hansard answered the search 'Ofcom' with an HTML page, not JSON"
    assert sum("Hansard: sextortion" in line for line in caplog.text.splitlines()) == 1


def shared_or_ours_feed():
    from tests.conftest import DATA

    return DATA / "feeds" / "ours_rss20.xml"


# --- pure parts ------------------------------------------------------------------------------------


def test_speaker_and_party_come_from_the_attribution():
    assert split_attribution("Baroness Doocey (LD)", "Baroness Doocey") == ("Baroness Doocey", "LD")
    assert split_attribution("Sarah Ashby (Northshire East) (Lab/Co-op)", "Sarah Ashby") == ("Sarah Ashby", "Lab/Co-op")
    assert split_attribution("Lord Pellow (CB)", "Lord Pellow") == ("Lord Pellow", "CB")
    assert split_attribution("Tom Reed (Ashvale)", "Tom Reed") == ("Tom Reed", None)  # a constituency, no party
    assert split_attribution("The Minister for Safeguarding (Nadia Quill)", "Nadia Quill") == ("Nadia Quill", None)
    assert split_attribution("Mr Speaker", "") == ("Mr Speaker", None)


def test_debate_links_have_hansards_form_and_refuse_odd_ids():
    assert title_slug("Children's Wellbeing and Schools Bill (Second Reading)") == "ChildrensWellbeingandSchoolsBillSecondReading"
    assert title_slug("???") == "Debate"
    url = contribution_url("https://hansard.parliament.uk/", "Commons", date(2026, 3, 11), "ABC-123-DEF-456",
                           "Online Safety", "FED-654-CBA-321")
    assert url == ("https://hansard.parliament.uk/Commons/2026-03-11/debates/ABC-123-DEF-456/OnlineSafety"
                   "#contribution-FED-654-CBA-321")
    assert contribution_url("https://hansard.parliament.uk", "Commons", date(2026, 3, 11), "../../evil",
                            "x", "FED-654-CBA-321") is None


def test_the_search_window_starts_before_the_last_sitting_and_ends_tomorrow():
    settings = HansardConfig(lookback_days=14, overlap_days=3)
    today = date(2026, 3, 12)
    assert search_window(None, today, settings) == (date(2026, 2, 26), date(2026, 3, 13))
    assert search_window("2026-03-10", today, settings) == (date(2026, 3, 7), date(2026, 3, 13))
    assert search_window("not a date", today, settings) == (date(2026, 2, 26), date(2026, 3, 13))
    assert search_window("2026-04-01", today, settings)[0] == today  # a cursor in the future never skips today


def test_contribution_json_shape_errors_are_one_line(hansard_api, make_config):
    now, _results = ours()
    hansard_api.reply(SEARCH_PATH, json_reply({"Results": "nope", "TotalResultCount": 1}))
    hansard_api.reply(SEARCH_PATH, Reply(200, {"Content-Type": "application/json"}, json.dumps(
        {"Results": [], "TotalResultCount": "2"}).encode()))
    config = make_config(hansard=hansard_section(hansard_api, "grooming"))
    with open_monitor(config, clock=lambda: now, tag=no_tags) as monitor:
        first = monitor.collect().results[0]
        second = monitor.collect(force=True).results[0]
    assert first.error == "Hansard answered the search 'grooming' with something that is not a contribution search result"
    assert second.error == "Hansard answered the search 'grooming' without a TotalResultCount"

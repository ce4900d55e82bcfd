"""The digest's "In Parliament" section: who said what, in which debate, grouped by debate.

Built from a small database of invented contributions (tests/digest/builder.py writes
them through the production store), and end to end: our invented Hansard results
collected from the fake Hansard API, then the digest built from what was stored.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta, timezone

import pytest

from monitor.app import Monitor, open_monitor
from monitor.config import config_from_dict
from monitor.digest.build import CONTRIBUTIONS_SHOWN, passage, speaker_of
from monitor.store import open_store
from monitor.store.digest import ItemRow
from tests.digest.builder import DigestDB
from tests.helpers import our_data

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=timezone.utc)  # the digest for Sat 28 Nov is due
DAY = NOW.date()
HANSARD = "https://hansard.parliament.uk"

LONG_SPEECH = (
    "I thank my right hon. Friend for giving way. The Bill before us deals with planning, with bus routes and with "
    "the funding of parish councils, and I have spoken on each of those many times before in this House. The "
    "measures on rural broadband are welcome, and so is the extra money for road repairs in my county. "
    "But it is the clause on children's apps that matters most: grooming on Snapchat has become the most common "
    "route by which adults reach children in my constituency, and the Online Safety Act must be enforced. "
    "I hope the Minister will say more about that when she replies."
)


def contribution(db: DigestDB, source, member: str, attributed: str, debate: str, debate_id: str, sitting: date,
                 order: int, text: str, *, collected: datetime, relevant: bool = True, house: str = "Commons",
                 section: str = "Commons Chamber", party: str | None = None, topics=("grooming",), platforms=(),
                 laws=()) -> str:
    ext = f"C0FFEE00-0000-4000-8000-{order:04d}{zlib.crc32(debate_id.encode()) % 10**8:08d}"
    extra = {"house": house, "member": member, "party": party, "attributed_to": attributed, "debate": debate,
             "debate_id": debate_id, "section": section, "sitting_date": sitting.isoformat(), "order": order}
    return db.item(
        source, f"{member} \u2014 {debate}", at=datetime.combine(sitting, datetime.min.time(), timezone.utc)
        + timedelta(hours=12), text=text, summary_html=f"<p>{text}</p>",
        url=f"{HANSARD}/{house}/{sitting}/debates/{debate_id}/Debate#contribution-{ext}", relevant=relevant,
        topics=topics, platforms=platforms, laws=laws, extra={k: v for k, v in extra.items() if v is not None},
        item_id=f"hansard:{ext}", collected=collected)


def config_for(folder, **extra):
    return config_from_dict({"storage": {"path": str(folder / "monitor.db")},
                             "digest": {"archive_dir": str(folder / "archive")},
                             "hansard": {"searches": [{"query": "grooming"}]}, **extra}, "test.toml")


@pytest.fixture(scope="module")
def parliament(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parliament")
    db = DigestDB(folder / "monitor.db", NOW)
    hansard = db.source("grooming", kind="hansard", url=f"{HANSARD}/search/Contributions?searchTerm=grooming")
    today = NOW - timedelta(hours=3)  # collected inside the digest's day
    friday = date(2026, 11, 27)
    # A Westminster Hall debate on Friday, stored out of speaking order.
    contribution(db, hansard, "Nadia Quill", "The Minister for Safeguarding (Nadia Quill)",
                 "Online Grooming: Gaming Platforms", "DEBATE-A", friday, 3,
                 "The Government are clear that gaming platforms are in scope of the Online Safety Act.",
                 collected=today, section="Westminster Hall", laws=("online_safety_act_uk",))
    contribution(db, hansard, "Imogen Vale", "Imogen Vale (Harbourton West) (Lab)",
                 "Online Grooming: Gaming Platforms", "DEBATE-A", friday, 1, LONG_SPEECH, collected=today,
                 section="Westminster Hall", party="Lab", platforms=("snapchat",), laws=("online_safety_act_uk",))
    contribution(db, hansard, "Rupert Dunmore", "Sir Rupert Dunmore (Ashvale) (Con)",
                 "Online Grooming: Gaming Platforms", "DEBATE-A", friday, 2,
                 "Does the hon. Lady agree that grooming starts in games and moves to private messages?",
                 collected=today, section="Westminster Hall", party="Con")
    # A Lords debate of Tuesday that reached Hansard only today: in today's digest.
    contribution(db, hansard, "Baroness Thorne of Kellow", "Baroness Thorne of Kellow (LD)", "Children: Sextortion",
                 "DEBATE-B", date(2026, 11, 24), 1, "My Lords, sextortion of teenage boys begins with grooming.",
                 collected=today, house="Lords", section="Lords Chamber", party="LD", topics=("sextortion",))
    # Not today's: irrelevant; collected yesterday (yesterday's digest had it); a sitting long ago.
    contribution(db, hansard, "Lord Pellow", "Lord Pellow (Con)", "Equine Welfare", "DEBATE-C", friday, 1,
                 "Daily grooming of horses is good welfare.", collected=today, relevant=False, house="Lords",
                 party="Con", topics=())
    contribution(db, hansard, "Tom Reed", "Tom Reed (Ashvale) (Lab)", "Online Safety Act: Enforcement", "DEBATE-D",
                 date(2026, 11, 26), 1, "Enforcement of the grooming duties has been too slow.",
                 collected=NOW - timedelta(days=1, hours=2), party="Lab")
    contribution(db, hansard, "Ann Old", "Ann Old (Kellow) (LD)", "Children's Online Safety", "DEBATE-E",
                 date(2026, 11, 10), 1, "An old sitting found by a first poll's look-back: grooming.",
                 collected=today, party="LD")
    # A hostile name, and a debate with more contributions than are shown.
    contribution(db, hansard, "<script>alert(1)</script>", "<script>alert(1)</script> (Ind)",
                 "Online Safety Act: Children's Codes <img src=x onerror=alert(2)>", "DEBATE-F", friday, 1,
                 "Grooming is <b>everywhere</b>.", collected=today, party="Ind")
    for order in range(2, CONTRIBUTIONS_SHOWN + 3):
        contribution(db, hansard, f"Member {order}", f"Member {order} (Seat {order}) (Lab)",
                     "Online Safety Act: Children's Codes <img src=x onerror=alert(2)>", "DEBATE-F", friday, order,
                     f"Point {order} about grooming on messaging apps.", collected=today, party="Lab")
    feed = db.source("Northshire Gazette")
    db.item(feed, "Man jailed for grooming girl he met on Snapchat", hours_ago=2, topics=["grooming"])
    db.close()
    config = config_for(folder, feeds=[{"name": "Northshire Gazette", "url": "https://northshire-gazette.test/feed.xml"}])
    with Monitor(config, open_store(config.storage.path), clock=lambda: NOW) as app:
        yesterday = app.build_digest(DAY - timedelta(days=1))
        built = app.build_digest(DAY)
    return built, yesterday


def test_contributions_are_grouped_by_debate_in_speaking_order(parliament):
    built, _yesterday = parliament
    debates = {d.title: d for d in built.digest.parliament}
    gaming = debates["Online Grooming: Gaming Platforms"]
    assert (gaming.house, gaming.section, gaming.sitting) == ("House of Commons", "Westminster Hall",
                                                             date(2026, 11, 27))
    assert gaming.url == f"{HANSARD}/Commons/2026-11-27/debates/DEBATE-A/Debate"
    assert [c.speaker for c in gaming.contributions] == ["Imogen Vale (Lab)", "Rupert Dunmore (Con)", "Nadia Quill"]
    minister = gaming.contributions[2]
    assert minister.role == "The Minister for Safeguarding"  # the office she spoke in
    assert gaming.contributions[0].role is None  # a constituency is no office
    assert all(c.url and c.url.startswith(f"{HANSARD}/Commons/2026-11-27/debates/DEBATE-A/Debate#contribution-")
               for c in gaming.contributions)
    # Who said what: the passage of a long speech that is about grooming, not its preamble on bus routes.
    vale = gaming.contributions[0].passage
    assert vale.startswith("… But it is the clause on children's apps that matters most: grooming on Snapchat")
    assert "bus routes" not in vale
    assert gaming.contributions[0].tags == ("Snapchat", "Online Safety Act (UK)", "Grooming")


def test_late_sittings_appear_once_and_old_or_irrelevant_ones_not_at_all(parliament):
    built, yesterday = parliament
    titles = [d.title for d in built.digest.parliament]
    assert "Children: Sextortion" in titles  # sat on Tuesday, reached Hansard today
    assert "Equine Welfare" not in titles  # not relevant
    assert "Children's Online Safety" not in titles  # a sitting more than a week old
    assert "Online Safety Act: Enforcement" not in titles  # collected yesterday: in yesterday's digest
    assert [d.title for d in yesterday.digest.parliament] == ["Online Safety Act: Enforcement"]
    # The busiest debate first; at most CONTRIBUTIONS_SHOWN of it, the rest counted.
    first = built.digest.parliament[0]
    assert first.title.startswith("Online Safety Act: Children's Codes")
    assert len(first.contributions) == CONTRIBUTIONS_SHOWN and first.more == 2


def test_parliament_has_its_own_section_not_top_stories_but_counts_in_the_headline(parliament):
    built, _yesterday = parliament
    stories = [s for section in built.digest.topics for s in section.stories]
    assert [s.title for s in stories] == ["Man jailed for grooming girl he met on Snapchat"]
    assert all(s.media != "parliament" for law in built.digest.laws for s in law.stories)
    by_media = {m.media: m.today for m in built.digest.headline.by_media}
    assert by_media["parliament"] == 3 + 1 + 7  # relevant contributions from Friday's sittings (noon UTC)


def test_both_renderings_show_who_said_what_safely(parliament):
    built, _yesterday = parliament
    html = built.html_path.read_text(encoding="utf-8")
    text = built.text_path.read_text(encoding="utf-8")
    assert 'id="parliament"' in html and "In Parliament" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; (Ind)" in html
    assert "<img src=x" not in html and "onerror=alert(2)&gt;" in html
    assert "The Minister for Safeguarding" in html and "Read in Hansard" in html
    assert html.index('id="stories"') < html.index('id="parliament"') < html.index('id="platforms"')
    section = text[text.index("== In Parliament =="):text.index("== Platforms ==")]
    assert "-- Online Grooming: Gaming Platforms --" in section
    assert "  House of Commons, Westminster Hall, sitting of Fri 27 Nov" in section
    assert "* Nadia Quill, The Minister for Safeguarding" in section
    assert '  "The Government are clear that gaming platforms are in scope of the Online Safety Act."' in section
    assert "... and 2 more contributions in this debate." in section
    assert "Equine Welfare" not in section


def test_an_empty_day_says_so(tmp_path):
    config = config_for(tmp_path)
    with Monitor(config, open_store(config.storage.path), clock=lambda: NOW) as app:
        built = app.build_digest(DAY)
    assert built.digest.parliament == ()
    assert "No relevant contributions in Parliament since the last briefing." in built.text_path.read_text("utf-8")


def test_collected_from_hansard_then_shown_in_the_digest(hansard_api, tmp_path):
    data = our_data("parliament", "ours_contributions.json")
    for result in data["results"]:
        shifted = dict(result, SittingDate=result["SittingDate"].replace("2026-03-", "2026-11-2"))  # 11 -> 21 ...
        hansard_api.add(shifted)
    config = config_for(tmp_path, hansard={"api_url": hansard_api.base_url, "searches": [{"query": "grooming"}]})
    clock = [NOW - timedelta(hours=1)]
    with open_monitor(config, clock=lambda: clock[0]) as monitor:
        assert monitor.collect().results[0].new == 5
        clock[0] = NOW
        built = monitor.build_digest(DAY)
    debates = {d.title: d for d in built.digest.parliament}
    enforcement = debates["Online Safety Act 2023: Enforcement"]
    assert [c.speaker for c in enforcement.contributions] == ["Imogen Vale (Lab)", "Rupert Dunmore (Con)"]
    assert enforcement.house == "House of Commons" and enforcement.sitting == date(2026, 11, 21)
    assert enforcement.url == ("https://hansard.parliament.uk/Commons/2026-11-21/debates/"
                               "0AE5C0DE-1111-4A2B-9C3D-5E6F7A8B9C01/OnlineSafetyAct2023Enforcement")
    assert "Equine Welfare" not in debates  # the tagger found horse grooming irrelevant
    text = built.text_path.read_text(encoding="utf-8")
    assert "* Imogen Vale (Lab)" in text and "-- Online Safety Act 2023: Enforcement --" in text


# --- pure parts ---------------------------------------------------------------------------------


def row(**extra) -> ItemRow:
    return ItemRow(id="x", media="parliament", url=None, title="t", text="", summary_html="",
                   published_at=NOW, relevant=True, cluster_id=None, popularity=None, comments=None, extra=extra,
                   source_name="Hansard: x", source_kind="hansard", feed_name=None)


def test_speakers_and_offices():
    assert speaker_of(row(member="Baroness Doocey", party="LD", attributed_to="Baroness Doocey (LD)")) == (
        "Baroness Doocey (LD)", None)
    assert speaker_of(row(member="Lord Hanson of Flint", party="Lab",
                          attributed_to="The Minister of State, Home Office (Lord Hanson of Flint) (Lab)")) == (
        "Lord Hanson of Flint (Lab)", "The Minister of State, Home Office")
    assert speaker_of(row(attributed_to="Mr Speaker")) == ("Mr Speaker", None)


def test_passages_start_at_the_subject_and_keep_short_speeches_whole():
    assert passage("Short and sweet.", ["groom"]) == "Short and sweet."
    long = "Preamble about roads. " * 30 + "Grooming is the issue. Ofcom must act. " + "Closing words. " * 20
    quoted = passage(long, ["groom"], limit=120)
    assert quoted.startswith("… Grooming is the issue. Ofcom must act.") and len(quoted) <= 120
    assert passage("Nothing relevant here. " * 40, ["groom"], limit=80).startswith("Nothing relevant here.")
    assert passage("I thank the hon. Member for this. " * 20 + "Grooming matters.", ["groom"]).endswith(
        "Grooming matters.")

"""A realistic tagged newsroom for digest tests: invented outlets, stories and figures.

The digest day is Saturday 28 November 2026, 07:30 Europe/London (= UTC in November):
it covers Friday 07:30 to Saturday 07:30. What the digest should show is written
next to the data that produces it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from typing import Any
from urllib.parse import quote_plus

from tests.digest.builder import DigestDB, feed_url

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=timezone.utc)  # the digest is due now
DAY = NOW.date()

# history: one grooming story a day for 55 days before the window, naming Snapchat on
# the 28 days before today (28/28 + today's) and Instagram on every other of the previous 28
HISTORY_DAYS = 55
NEWS_TODAY = 11  # relevant news items in the window (below)
REDDIT_TODAY = 3


FEEDS = ["Northshire Gazette", "The Daily Lantern", "Wirecast", "Harbourton Echo", "Westminster Ledger",
         "Pacific Signal", "Courtside Weekly", "Old Council Feed", "Brussels Ledger"]
SEARCH = ("Sextortion search", "sextortion teenagers")
SEARCH_TEMPLATE = "https://search.test/rss?q={terms}"


def sources_config() -> dict[str, Any]:
    """The configuration sections naming the newsroom's sources (so a Monitor keeps them active)."""
    return {
        "feeds": [{"name": name, "url": feed_url(name)} for name in FEEDS],
        "queries": [{"name": SEARCH[0], "terms": SEARCH[1]}],
        "queries_settings": {"url_template": SEARCH_TEMPLATE},
    }


def newsroom(path: Path, now: datetime = NOW) -> DigestDB:
    db = DigestDB(path, now)
    gazette, lantern, wirecast, echo, ledger, signal, broken, gone, quiet = (db.source(name) for name in FEEDS)
    search = db.source(SEARCH[0], kind="query", url=SEARCH_TEMPLATE.replace("{terms}", quote_plus(SEARCH[1])))
    parenting = db.source("Parenting", kind="reddit_subreddit", url="https://reddit.test/r/Parenting")

    # -- history (before the window): a steady daily grooming story, for averages and shares
    for back in range(1, HISTORY_DAYS + 1):
        at = now - timedelta(days=back, hours=3)
        platforms = ["snapchat"] if back <= 28 else (["instagram"] if back % 2 else [])
        db.item(wirecast, f"Earlier grooming case {back}", at=at, topics=["grooming"], platforms=platforms)
    # Brussels Ledger published every 6 hours until 4 days ago: now silent
    for k in range(40):
        db.item(quiet, f"EU policy note {k}", at=now - timedelta(days=4, hours=6 * k), relevant=False)
    # Courtside Weekly has been failing since yesterday evening; Old Council Feed is gone (410)
    db.failing(broken, failures=3, error="HTTP 503 Service Unavailable", since=now - timedelta(hours=12),
               last_success=now - timedelta(hours=13), next_due=now + timedelta(hours=2))
    db.failing(gone, failures=0, error="HTTP 410 Gone", since=now - timedelta(days=2), last_success=None, gone=True)

    # -- the day
    # 1. a wire story carried by four outlets (one copy also found by the news search): one story
    nca = "cluster-nca"
    sentence = "The agency said it received 1,284 reports in the quarter, up 46% on the previous three months."
    for source, hours, title in [
        (wirecast, 6, "Sextortion reports involving teenage boys rise sharply, NCA says"),
        (gazette, 5, "Sextortion reports involving teenage boys rise sharply, NCA says - Northshire Gazette"),
        (lantern, 4, "Sextortion reports involving teenage boys rise sharply, NCA says | The Daily Lantern"),
        (echo, 3, "Sextortion reports involving teenage boys rise sharply, NCA says - Harbourton Echo"),
    ]:
        db.item(source, title, hours_ago=hours, topics=["sextortion", "child_online_safety"],
                platforms=["instagram", "snapchat"], stats=[("46%", sentence), ("1,284", sentence)], cluster=nca,
                also_in=[search] if source is gazette else ())
    db.cluster(nca, "Sextortion reports involving teenage boys rise sharply, NCA says", now - timedelta(hours=6), 4, 4)
    # 2. grooming cases
    db.item(gazette, "Man jailed for grooming 13-year-old girl he met on Snapchat", hours_ago=3,
            topics=["grooming"], platforms=["snapchat", "whatsapp"],
            stats=[("37%", "Snapchat was named in 37% of cases the force recorded.", "%", "cases")])
    db.item(echo, "Youth worker jailed for grooming girl, 12, he contacted on Instagram", hours_ago=1,
            topics=["grooming"], platforms=["instagram"],
            stats=[("12", "The girl was 12 when he first contacted her on Instagram.")])
    # 3. grooming gangs: two outlets, one story that began the day before
    gangs = "cluster-gangs"
    db.item(ledger, "Councils told to reopen historic grooming gang files after national audit", hours_ago=20,
            topics=["grooming_gangs", "grooming"], cluster=gangs)
    db.item(lantern, "Councils told to reopen grooming gang files", hours_ago=26, topics=["grooming_gangs", "grooming"],
            cluster=gangs)  # yesterday: a copy outside the window
    db.cluster(gangs, "Councils told to reopen historic grooming gang files after national audit",
               now - timedelta(hours=26))
    # 4. law
    db.item(ledger, "MPs press Ofcom on enforcement of children's safety codes", hours_ago=10,
            topics=["legislation", "child_online_safety"], laws=["online_safety_act_uk"])
    db.item(signal, "Senate committee advances Kids Online Safety Act again", hours_ago=14,
            topics=["legislation"], laws=["kosa_us"])
    # 5. abuse imagery, two outlets
    iwf = "cluster-iwf"
    for source, hours in [(wirecast, 16), (lantern, 15)]:
        db.item(source, "AI-generated child abuse imagery reports double in a year, IWF warns", hours_ago=hours,
                topics=["csam"], stats=[("double", "Reports of AI-generated abuse imagery doubled in a year.")],
                cluster=iwf)
    db.cluster(iwf, "AI-generated child abuse imagery reports double in a year, IWF warns", now - timedelta(hours=16))
    # NEWS_TODAY relevant news items so far: 4 + 2 + 1 + 2 + 2 = 11

    # -- noise: not relevant, not yet tagged, deleted upstream
    db.item(gazette, "Brackley dog groomer wins county small business award", hours_ago=5, relevant=False,
            stats=[("40%", "Bookings at the salon rose 40% this spring.", "%", None)])  # figures of every item are kept
    db.item(lantern, "Meta shares climb as advertising revenue beats forecasts", hours_ago=9, relevant=False)
    db.item(echo, "Seafront barber launches beard grooming masterclasses", hours_ago=8, relevant=None)
    db.item(gazette, "Withdrawn story about a grooming case", hours_ago=2, topics=["grooming"], deleted=True)

    # -- Reddit: three relevant threads (ordered by comments), one irrelevant
    for title, comments, score in [
        ("Found my daughter (13) talking to an 'older boy' on Snapchat. Is this grooming?", 311, 1204),
        ("My son was targeted by a sextortion scam last month. Sharing what helped.", 402, 3120),
        ("Do the Instagram teen accounts actually do anything?", 142, 376),
    ]:
        db.item(parenting, title, hours_ago=9, topics=["grooming"] if "grooming" in title else ["sextortion"],
                platforms=["snapchat"], comments=comments, score=score, extra={"subreddit": "Parenting"})
    db.item(parenting, "Best lunchbox ideas?", hours_ago=5, relevant=False, comments=900, score=5000,
            extra={"subreddit": "Parenting"})
    # a top-level comment on a relevant thread (collected as context): not a thread or an item of its own
    db.item(parenting, "Report him to CEOP straight away, and keep the screenshots", hours_ago=8,
            topics=["grooming"], platforms=["snapchat"], score=950, item_id="t1_c0mment",
            extra={"subreddit": "Parenting", "kind": "comment", "parent": "t3_found"})
    return db

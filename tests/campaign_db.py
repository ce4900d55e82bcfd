"""A small campaign database for the search, view, export, saved-query and browse tests.

INVENTED TEST DATA: every outlet, subreddit, headline, person and figure below was
written for these tests; none is real. Items go in through the store layer
(``Store.save_batch`` with the tagger's ``Tags``), like collection does, and the
thread deleted upstream is purged by ``Store.apply_deletions`` as ``monitor recheck``
does; the syndication cluster and Reddit engagement are written with plain SQL so
the expected answers do not depend on the clustering's thresholds.

Dates are relative to ``now``, kept inside the current month / day where a saved
query asks about "this month" or "today".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from monitor.store import Run, open_store
from monitor.types import FetchState, Item, Source, Statistic, Tags, to_iso

VERSION = "test-tagger-1"

GAZETTE = Source(id="feed:pennine-gazette", kind="feed", name="Pennine Gazette", url="https://gazette.example/rss")
HARBOUR = Source(id="feed:harbour-times", kind="feed", name="Harbour Times", url="https://harbour.example/rss")
WIRECAST = Source(id="feed:wirecast-agency", kind="feed", name="Wirecast Agency", url="https://wirecast.example/rss")
SEARCH = Source(id="query:sextortion-search", kind="query", name="News search: sextortion",
                url="https://news.example/rss?q=sextortion")
PARENTS = Source(id="reddit_subreddit:parentsask", kind="reddit_subreddit", name="r/ParentsAsk",
                 url="https://www.reddit.com/r/ParentsAsk")
GAMING = Source(id="reddit_subreddit:gamingdads", kind="reddit_subreddit", name="r/GamingDads",
                url="https://www.reddit.com/r/GamingDads")
DEAD = Source(id="feed:dead-feed", kind="feed", name="Dead Feed", url="https://dead.example/rss")
MOVED = Source(id="feed:moved-feed", kind="feed", name="Moved Feed", url="https://moved.example/rss")
SOURCES = [GAZETTE, HARBOUR, WIRECAST, SEARCH, PARENTS, GAMING, DEAD, MOVED]


@dataclass
class Row:
    key: str
    source: Source
    published: datetime
    title: str
    text: str
    tags: Tags | None = None
    collected: datetime | None = None  # default: an hour after publication
    also: list[Source] = field(default_factory=list)  # other sources carrying the same URL


def tags(*, relevant: bool = True, topics=(), platforms=(), legislation=(), organisations=(), figures=()) -> Tags:
    stats = tuple(Statistic(value=f[0], number=None, unit="%" if f[0].endswith("%") else "", sentence=f[1],
                            of=f[2] if len(f) > 2 else None) for f in figures)
    return Tags(relevant=relevant, score=0.9 if relevant else 0.1, topics=tuple(topics), platforms=tuple(platforms),
                legislation=tuple(legislation), organisations=tuple(organisations), statistics=stats,
                why=("test",), version=VERSION)


@dataclass
class CampaignDB:
    path: Path
    now: datetime
    rows: dict[str, Row]
    ids: dict[str, str]  # row key -> stored item id

    def published(self, key: str) -> str:
        return to_iso(self.rows[key].published) or ""


def build(path: Path, now: datetime | None = None) -> CampaignDB:
    """Write the campaign database to ``path`` and describe what is in it."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    month_start = now.replace(day=1, hour=0, minute=0, second=0)
    day_start = now.replace(hour=0, minute=0, second=0)

    def this_month(delta: timedelta) -> datetime:
        return max(now - delta, month_start)

    def today(delta: timedelta) -> datetime:
        return max(now - delta, day_start)

    rows = [
        Row("nspcc", GAZETTE, today(timedelta(hours=1)),
            "Snapchat used in 37% of online grooming offences, NSPCC figures show",
            "Where the platform was known, Snapchat was used in 37% of recorded grooming offences and Instagram "
            "in 12%, the invented charity figures for Pennine Valley show. The NSPCC wants the Online Safety Act "
            "codes tightened.",
            tags(topics=["grooming"], platforms=["snapchat", "instagram"], legislation=["online_safety_act_uk"],
                 organisations=["nspcc"], figures=[("37%", "Snapchat was used in 37% of recorded offences", "offences")]),
            collected=now, also=[SEARCH]),
        Row("nspcc-copy", HARBOUR, today(timedelta(hours=2)),
            "NSPCC: 37% of grooming crimes begin on Snapchat",
            "A syndicated copy: Snapchat was used in 37% of the grooming crimes where a platform was recorded.",
            tags(topics=["grooming"], platforms=["snapchat"], organisations=["nspcc"],
                 figures=[("37 %", "Snapchat was used in 37 % of the grooming crimes")]),
            collected=now),
        Row("boys", WIRECAST, this_month(timedelta(days=3)),
            "Teenage boys targeted in Snapchat sextortion wave",
            "Police say 1,220 reports of sextortion aimed at teenage boys were made this year, most of them "
            "starting on Snapchat with a fake profile.",
            tags(topics=["sextortion"], platforms=["snapchat"], organisations=["police"],
                 figures=[("1,220", "Police say 1,220 reports of sextortion were made")])),
        Row("warning", WIRECAST, datetime(2024, 3, 10, 9, 30, tzinfo=timezone.utc),
            "Police warning over Snapchat sextortion of pupils",
            "Schools were told to warn pupils after a run of sextortion attempts on Snapchat.",
            tags(topics=["sextortion"], platforms=["snapchat"])),
        Row("before-act", GAZETTE, datetime(2023, 9, 1, 12, 0, tzinfo=timezone.utc),
            "Snapchat sextortion case heard in court",
            "A man admitted sextortion offences against a boy he met on Snapchat.",
            tags(topics=["sextortion"], platforms=["snapchat"])),
        Row("roblox-son", PARENTS, now - timedelta(days=2),
            "My son was groomed on Roblox, what do I do now?",
            "An adult befriended my 11 year old on Roblox and moved the chat to another app. Police are involved.",
            tags(topics=["grooming"], platforms=["roblox"])),
        Row("roblox-settings", PARENTS, now - timedelta(days=5),
            "Chat settings for a nine year old: worried about grooming",
            "Which Roblox chat settings stop strangers messaging my daughter? I read about grooming in games.",
            tags(topics=["grooming"])),
        Row("roblox-avatars", GAMING, now - timedelta(days=4),
            "Roblox update adds new avatar bundles",
            "The new bundles are fun, my kids love them.",
            tags(relevant=False, platforms=["roblox"])),
        Row("dog", GAZETTE, now - timedelta(days=1),
            "Dog grooming salon opens on the high street",
            "The salon offers grooming for dogs of every size.",
            tags(relevant=False, figures=[("37%", "Bookings rose 37% this spring")])),  # kept, never cited
        Row("codes", HARBOUR, this_month(timedelta(days=10)),
            "Ofcom publishes children's codes under the Online Safety Act",
            "The regulator Ofcom set out what platforms must do to protect children, including age checks.",
            tags(topics=["legislation", "child_online_safety"], legislation=["online_safety_act_uk"],
                 organisations=["ofcom"])),
        Row("kosa", WIRECAST, now - timedelta(days=40),
            "KOSA vote delayed again in the Senate",
            "The Kids Online Safety Act faces another delay.",
            tags(topics=["legislation"], legislation=["kosa_us"])),
        Row("purged", PARENTS, now - timedelta(days=3),
            "Throwaway: grooming on Roblox happened to me",
            "This thread was later deleted by its author; its words must not be found.",
            tags(topics=["grooming"], platforms=["roblox"])),
        Row("scam", PARENTS, now - timedelta(days=6),
            "Sextortion scam targeting my teenage son on Instagram",
            "Someone threatened to share images unless he paid. We reported it to the police and Instagram.",
            tags(topics=["sextortion"], platforms=["instagram"])),
        Row("formula", GAMING, now - timedelta(days=7),
            "=HYPERLINK(\"http://evil.example\",\"click\") grooming thread",
            "A hostile title that a spreadsheet must not run as a formula.",
            tags(relevant=False)),
    ]
    store = open_store(path)
    try:
        store.sync_sources(SOURCES, now - timedelta(days=900))
        ids: dict[str, str] = {}
        for number, row in enumerate(rows):
            reddit = row.source.kind.startswith("reddit")
            item = Item(id=f"t3_{number:02d}{row.key.replace('-', '')}" if reddit else f"item-{number:02d}-{row.key}",
                        source_id=row.source.id,
                        url=f"https://{row.source.id.split(':')[1]}.example/{row.key}", title=row.title,
                        text=row.text, published_at=row.published,
                        extra={"subreddit": row.source.name.removeprefix("r/")} if reddit else {})
            collected = row.collected or row.published + timedelta(hours=1)
            for source in [row.source, *row.also]:
                run = Run(cycle_id=f"c{number}", source_id=source.id, started_at=collected, ended_at=collected,
                          status="ok")
                state = dataclasses.replace(store.state(source.id), last_attempt_at=collected,
                                            last_success_at=collected)
                counts = store.save_batch(source, [item], state, run, collected,
                                          tags={item.id: row.tags} if row.tags else None)
                ids.setdefault(row.key, (counts.new + counts.updated + [item.id])[0])
        db = store.db
        # Reddit engagement (the Reddit collector's columns)
        for key, score, comments in (("roblox-son", 140, 87), ("roblox-settings", 12, 5), ("scam", 410, 300),
                                     ("roblox-avatars", 900, 500), ("purged", 50, 40)):
            db.execute("UPDATE items SET popularity = ?, comments = ? WHERE id = ?", [score, comments, ids[key]])
        # Syndication (the clustering's tables): the NSPCC story and its copy
        first, copy = rows[0], rows[1]
        db.execute(
            "INSERT INTO clusters (id, title, size, outlets, first_published_at, last_published_at, updated_at)"
            " VALUES (?, ?, 2, 2, ?, ?, ?)",
            [ids["nspcc"], first.title, to_iso(min(first.published, copy.published)),
             to_iso(max(first.published, copy.published)), to_iso(now)],
        )
        db.execute("UPDATE items SET cluster_id = ? WHERE id IN (?, ?)",
                   [ids["nspcc"], ids["nspcc"], ids["nspcc-copy"]])
        db.conn.commit()
        # The upstream-deletion purge, as `monitor recheck` does it
        store.apply_deletions([ids["purged"]], [], now)
        # A failing source and one that answered 410 Gone
        failed = Run(cycle_id="cf", source_id=DEAD.id, started_at=now, ended_at=now, status="failed",
                     error="HTTP 503 from server")
        store.record_failure(FetchState(source_id=DEAD.id, failures=3, last_status=503,
                                        last_error="HTTP 503 from server", last_error_at=now,
                                        last_success_at=now - timedelta(days=2),
                                        next_due_at=now + timedelta(hours=2)), failed)
        gone = Run(cycle_id="cg", source_id=MOVED.id, started_at=now, ended_at=now, status="failed",
                   http_status=410, error="HTTP 410 Gone")
        store.record_failure(FetchState(source_id=MOVED.id, failures=1, last_status=410, last_error="HTTP 410 Gone",
                                        last_error_at=now, gone_at=now), gone)
        db.conn.commit()
    finally:
        store.close()
    return CampaignDB(path=path, now=now, rows={row.key: row for row in rows}, ids=ids)

"""Query results -> the digest: what the campaign team reads, decided here and nowhere else.

Pure: :func:`build_digest` takes the rows read by :mod:`monitor.store.digest`, the
configuration and ``now``, and returns a :class:`Digest` of frozen dataclasses that
the templates only lay out. Every string that came from a source is cleaned here
(control characters and runs of whitespace removed, length capped), every link is
checked to be http(s), and every stored summary is sanitised again, so nothing a
source wrote can reach the email's HTML or headers unescaped.

Editorial rules, in one place:

- A *story* is one syndication cluster (or one item alone): shown once, with the
  number of outlets that carried it and a link per outlet. Reddit posts and
  contributions in Parliament are never part of a news story, even when clustered
  with it (:func:`family`): they have sections of their own.
- Top stories are grouped by each story's main topic (the first topic the tagger
  stored), most widely carried first, then newest. Reddit threads have their own
  section; so has Parliament ("In Parliament": who said what, grouped by debate,
  each contribution in the first digest after it reached Hansard, with the passage
  of the speech that is about the campaign's subjects). Social media posts are
  stories like news, under their network's name.
- The headline's figures add up on the page: its story count is the Top stories
  sections' and its busiest topic is the section with the most stories.
- Platform shares count stories, not copies: "Snapchat named in 3 of 8 grooming
  stories today". The grooming topics are configurable (``platform_topics``).
- Source health never says all is well when it is not: sources failing, gone, never
  collected or silent are listed and counted, and a section whose sources are not
  being collected says so.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from statistics import mean
from typing import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from monitor.config import DigestConfig
from monitor.digest.days import Window, zone
from monitor.digest.names import MEDIA, law_name, media_name, platform_name, topic_name
from monitor.sources.normalise import clean_text, safe_html
from monitor.store.digest import DigestData, ItemRow, SourceRow
from monitor.types import from_iso

TITLE_MAX = 200
EXCERPT_MAX = 280
SUMMARY_MAX = 320  # longer summaries are shown as a plain-text excerpt instead: a briefing, not the article
LINKS_SHOWN = 6
FIGURES_SHOWN = 12
THREADS_SHOWN = 5
PLATFORMS_SHOWN = 10
AVERAGE_DAYS = 7
MIN_HISTORY_ITEMS = 5  # fewer items than this in 28 days: too little rhythm to call a source silent
NEW_SOURCE_GRACE = timedelta(days=7)
SECTION_ORDER = ("grooming", "grooming_gangs", "sextortion", "csam", "child_online_safety", "legislation")
OWN_SECTIONS = ("reddit", "parliament")  # media shown in sections of their own, not among the top stories
TOP = "top"  # the family of news and social media stories: the Top stories sections
DEBATES_SHOWN = 8
CONTRIBUTIONS_SHOWN = 6  # per debate
PASSAGE_MAX = 400


# --- the model ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One outlet's copy of a story."""

    outlet: str
    url: str | None
    title: str
    published: datetime  # local time


@dataclass(frozen=True)
class Story:
    key: str  # cluster id, or the item id of a story told once
    title: str
    url: str | None
    outlet: str
    media: str
    published: datetime  # local time of its newest copy in the day
    first_reported: date | None  # set when an earlier copy came out before the day began
    summary_html: str  # sanitised again; empty when the excerpt is used instead
    excerpt: str
    outlets: int
    links: tuple[Link, ...]  # one per outlet, the lead's first, at most LINKS_SHOWN
    more_outlets: int
    topic_ids: tuple[str, ...]  # main topic first
    platform_ids: tuple[str, ...]
    law_ids: tuple[str, ...]
    items: int  # its copies published within the day

    @property
    def main_topic(self) -> str:
        return self.topic_ids[0] if self.topic_ids else "child_online_safety"

    @property
    def other_topics(self) -> tuple[str, ...]:
        """Display names of its topics besides the main one, without the catch-all
        "child online safety" that nearly every relevant item carries."""
        return tuple(topic_name(t) for t in self.topic_ids[1:] if t != "child_online_safety")

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(platform_name(p) for p in self.platform_ids)

    @property
    def laws(self) -> tuple[str, ...]:
        return tuple(law_name(x) for x in self.law_ids)


@dataclass(frozen=True)
class TopicSection:
    id: str
    name: str
    stories: tuple[Story, ...]
    total: int  # stories in all (more than shown when capped)


@dataclass(frozen=True)
class MediaFigure:
    media: str
    name: str
    today: int
    average: float | None


@dataclass(frozen=True)
class Headline:
    relevant: int
    average: float | None  # relevant items per day over the previous days; None without history
    average_days: int
    stories: int  # in the Top stories sections (news and social media), each once
    by_media: tuple[MediaFigure, ...]
    busiest: str | None  # display name
    busiest_stories: int
    collected: int  # every item published in the day, relevant or not
    untagged: int  # of which not yet tagged


@dataclass(frozen=True)
class PlatformShare:
    id: str
    name: str
    today: int
    today_share: float | None
    recent: int
    recent_share: float | None
    previous_share: float | None
    change: float | None  # recent_share - previous_share, in percentage points


@dataclass(frozen=True)
class PlatformSection:
    topics: str  # "grooming" or "grooming or sextortion": what the shares are of
    media: str  # "in the news": whose stories count
    today_total: int
    recent_total: int
    previous_total: int
    period_days: int
    rows: tuple[PlatformShare, ...]


@dataclass(frozen=True)
class LawSection:
    id: str
    name: str
    stories: tuple[Story, ...]
    items: int


@dataclass(frozen=True)
class QuotedFigure:
    values: tuple[str, ...]  # the figures in one sentence ("46%", "1,284")
    sentence: str
    links: tuple[Link, ...]  # the outlets quoting it

    @property
    def value(self) -> str:
        return ", ".join(self.values)


@dataclass(frozen=True)
class Thread:
    title: str
    url: str | None
    community: str
    comments: int
    score: int
    published: datetime


@dataclass(frozen=True)
class Contribution:
    """One member's contribution to a debate: who, what (a passage of it), where to read it."""

    speaker: str  # "Helen Marlowe (Lab)"
    role: str | None  # an office the speaker spoke in ("The Minister for Safeguarding"), if any
    passage: str  # the part of what they said that is about the campaign's subjects
    url: str | None  # the contribution in Hansard
    topic_ids: tuple[str, ...]
    platform_ids: tuple[str, ...]
    law_ids: tuple[str, ...]

    @property
    def tags(self) -> tuple[str, ...]:
        """Display names of its platforms and laws, then its topics (the catch-all left out)."""
        return (tuple(platform_name(p) for p in self.platform_ids) + tuple(law_name(x) for x in self.law_ids)
                + tuple(topic_name(t) for t in self.topic_ids if t != "child_online_safety"))


@dataclass(frozen=True)
class Debate:
    """A debate with the relevant contributions made in it, in the order they were made."""

    title: str
    house: str  # "House of Commons", "House of Lords"
    section: str | None  # "Westminster Hall", "Lords Chamber" ...
    sitting: date
    url: str | None  # the debate in Hansard
    contributions: tuple[Contribution, ...]
    more: int  # relevant contributions not shown


@dataclass(frozen=True)
class SourceProblem:
    name: str
    state: str  # gone | failing | never (never collected) | silent
    summary: str  # one line in plain words
    detail: str | None  # the last error (or why it was never collected), cleaned
    source_id: str = ""
    since: datetime | None = None  # when the problem began (failing since, gone at, last item, added)
    media: str = "news"

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def not_collected(self) -> bool:
        """Nothing is coming in from it (silent sources still answer)."""
        return self.state != "silent"


STATE_LABELS = {"gone": "gone", "failing": "failing", "never": "never collected", "silent": "silent"}
SOURCE_WORDS = {"news": "news", "reddit": "Reddit", "parliament": "Hansard", "social": "social media"}


@dataclass(frozen=True)
class Health:
    """The source health section: its problems, and one sentence counting them."""

    problems: tuple[SourceProblem, ...]
    checked: int  # active sources
    summary: str  # "2 of 36 sources need attention (1 failing, 1 never collected); ..."
    gaps: dict[str, str]  # media -> a note for its sections when some of its sources bring nothing in

    @property
    def not_collected(self) -> int:
        return sum(1 for problem in self.problems if problem.not_collected)


@dataclass(frozen=True)
class ChartData:
    kind: str  # topics | platforms
    title: str
    days: tuple[date, ...]
    totals: tuple[int, ...] | None  # bars: relevant items per day (topic chart)
    series: tuple[tuple[str, tuple[int, ...]], ...]  # (name, per day) lines
    alt: str
    empty_reason: str | None  # set when there is nothing to draw


@dataclass(frozen=True)
class Digest:
    window: Window
    generated_at: datetime  # local time
    complete: bool  # False while the day is still running (a preview)
    subject: str
    headline: Headline
    topics: tuple[TopicSection, ...]
    platforms: PlatformSection
    laws: tuple[LawSection, ...]
    figures: tuple[QuotedFigure, ...]
    more_figures: int
    threads: tuple[Thread, ...]
    parliament: tuple[Debate, ...]
    more_debates: int
    health: Health
    chart: ChartData

    @property
    def stories(self) -> int:
        return self.headline.stories


# --- words ---------------------------------------------------------------------------------


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "source")`` -> ``"1 source"``; ``plural(3, "story", "stories")`` -> ``"3 stories"``."""
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


# --- cleaning -----------------------------------------------------------------------------


def short(value: str | None, limit: int) -> str:
    """One clean line of at most ``limit`` characters, cut at a word with an ellipsis."""
    text = clean_text(value)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


_URL_BREAKERS = re.compile(r"[\s\x00-\x1f\x7f]")


@lru_cache(maxsize=8192)
def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript:, data:, ...)."""
    if not url or len(url) > 2000 or _URL_BREAKERS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _norm_name(value: str) -> str:
    value = re.sub(r"\([^)]*\)", "", value).casefold().strip()
    return re.sub(r"^the\s+", "", value)


_SUFFIX = re.compile(r"^(?P<head>.+?)\s+[-|–—]\s+(?P<tail>[^-|–—]{2,60})$")


def strip_outlet_suffix(title: str, outlet: str) -> str:
    """``"Headline - Northshire Gazette"`` -> ``"Headline"`` when the suffix names the outlet."""
    match = _SUFFIX.match(title)
    if match and _norm_name(match["tail"]) == _norm_name(outlet):
        return match["head"]
    return title


def community(row: ItemRow) -> str:
    sub = row.extra.get("subreddit")
    if isinstance(sub, str) and clean_text(sub):
        return "r/" + short(sub, 40).removeprefix("r/")
    return short(row.source_name, 60)


def outlet_of(row: ItemRow) -> str:
    """Who published the item, in words: the feed, else the outlet a news search named."""
    if row.media == "reddit":
        return community(row)
    if row.media == "parliament":
        return speaker_of(row)[0]
    if row.media == "social":
        network = row.extra.get("network")
        if network == "bluesky":
            return "Bluesky"
        if network == "mastodon":
            url = safe_url(row.url)
            return f"Mastodon ({urlsplit(url).hostname})" if url else "Mastodon"
    if row.source_kind == "feed":
        return short(row.source_name, 60)
    if row.feed_name:
        return short(row.feed_name, 60)
    for key in ("outlet", "publisher"):
        named = row.extra.get(key)
        if isinstance(named, str) and clean_text(named):
            return short(named, 60)
    match = _SUFFIX.match(clean_text(row.title))
    if match and row.source_kind == "query":
        return short(match["tail"], 60)
    url = safe_url(row.url)
    if url:
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.")
    return short(row.source_name, 60)


def excerpt_of(row: ItemRow) -> str:
    return short(row.text, EXCERPT_MAX)


def summary_of(row: ItemRow) -> str:
    """The stored summary, sanitised again on the way out; empty when too long to show."""
    if not row.summary_html or len(clean_text(row.text)) > SUMMARY_MAX:
        return ""
    return safe_html(row.summary_html)


# --- stories ------------------------------------------------------------------------------


def _local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(zone(tz))


def family(media: str) -> str:
    """Which stories an item can belong to. Reddit threads and contributions in Parliament
    have sections of their own, so they are never grouped with news: a Reddit post of a
    news headline (clustered with it) must neither swallow the news story nor repeat it.
    News and social media posts share the Top stories."""
    return media if media in OWN_SECTIONS else TOP


def _story_key(row: ItemRow) -> str:
    base = row.cluster_id or row.id
    kind = family(row.media)
    return base if kind == TOP else f"{kind}:{base}"


def _links(rows: Iterable[ItemRow], tz: str) -> list[Link]:
    """One link per outlet, the first copy each outlet published."""
    links: dict[str, Link] = {}
    for row in rows:
        name = outlet_of(row)
        if name not in links:
            title = short(strip_outlet_suffix(clean_text(row.title), name), TITLE_MAX)
            links[name] = Link(name, safe_url(row.url), title, _local(row.published_at, tz))
    return list(links.values())


def build_stories(data: DigestData, window: Window) -> tuple[list[Story], dict[str, ItemRow]]:
    """The day's relevant items as stories: each cluster once, its copies as links.

    Returns the stories and each story's lead item by key; summaries are filled in
    later, for the stories that are shown (:func:`with_summary`).
    """
    tz = window.timezone
    leads: dict[str, ItemRow] = {}
    groups: dict[str, list[ItemRow]] = defaultdict(list)
    families: dict[str, set[str]] = defaultdict(set)  # cluster id -> the families of its items
    for row in data.items:
        groups[_story_key(row)].append(row)
    copies: dict[str, list[ItemRow]] = defaultdict(list)
    for row in (*data.items, *data.copies):
        if row.cluster_id:
            families[row.cluster_id].add(family(row.media))
    for row in data.copies:
        key = _story_key(row)
        if key in groups:
            copies[key].append(row)
    stories = []
    for key, rows in groups.items():
        rows.sort(key=lambda r: (r.published_at, r.id))
        # the earliest news copy leads (a social media post of the headline may come first)
        lead = leads[key] = next((r for r in rows if r.media == "news"), rows[0])
        outlet = outlet_of(lead)
        every = sorted(rows + copies.get(key, []), key=lambda r: (r.published_at, r.id))
        links = _links([lead, *every], tz)
        cluster = data.clusters.get(lead.cluster_id or "")
        if cluster is not None and len(families[cluster.id]) > 1:
            cluster = None  # its headline and first date may be a Reddit post's or a speech's
        title = cluster.title if cluster and clean_text(cluster.title) else lead.title
        earliest = min([r.published_at for r in every] + ([cluster.first_published_at] if cluster else []))
        stories.append(
            Story(
                key=key,
                title=short(strip_outlet_suffix(clean_text(title), outlet), TITLE_MAX) or "(untitled)",
                url=safe_url(lead.url),
                outlet=outlet,
                media=lead.media,
                published=_local(rows[-1].published_at, tz),
                first_reported=_local(earliest, tz).date() if earliest < window.start else None,
                summary_html="",
                excerpt=excerpt_of(lead),
                outlets=len(links),
                links=tuple(links[:LINKS_SHOWN]),
                more_outlets=max(0, len(links) - LINKS_SHOWN),
                topic_ids=tuple(dict.fromkeys(t for r in rows for t in r.topics)),
                platform_ids=tuple(dict.fromkeys(p for r in rows for p in r.platforms)),
                law_ids=tuple(dict.fromkeys(x for r in rows for x in r.legislation)),
                items=len(rows),
            )
        )
    stories.sort(key=lambda s: (-s.outlets, -s.published.timestamp(), s.title))
    return stories, leads


def with_summary(story: Story, leads: dict[str, ItemRow]) -> Story:
    lead = leads.get(story.key)
    return replace(story, summary_html=summary_of(lead)) if lead is not None else story


def topic_sections(stories: Sequence[Story], limit: int, leads: dict[str, ItemRow] | None = None
                   ) -> tuple[TopicSection, ...]:
    """Stories under their main topic, in the campaign's topic order (Reddit threads and
    contributions in Parliament have sections of their own); the first ``limit`` of
    each are shown, with their summaries."""
    by_topic: dict[str, list[Story]] = defaultdict(list)
    for story in stories:
        if story.media not in OWN_SECTIONS:
            by_topic[story.main_topic].append(story)
    order = list(SECTION_ORDER) + sorted(t for t in by_topic if t not in SECTION_ORDER)
    return tuple(
        TopicSection(topic, topic_name(topic),
                     tuple(with_summary(s, leads or {}) for s in by_topic[topic][:limit]), len(by_topic[topic]))
        for topic in order
        if by_topic.get(topic)
    )


def law_sections(stories: Sequence[Story], data: DigestData) -> tuple[LawSection, ...]:
    """Mentions per law: the stories (news, Reddit and social media; Parliament has its
    own section) naming it, most mentioned law first."""
    sections: dict[str, list[Story]] = defaultdict(list)
    for story in stories:
        if story.media == "parliament":
            continue
        for law in story.law_ids:
            sections[law].append(story)
    items: Counter[str] = Counter()
    for row in data.items:
        if row.media != "parliament":
            items.update(set(row.legislation))
    order = sorted(sections, key=lambda law: (-len(sections[law]), law == "other", law_name(law)))
    return tuple(LawSection(law, law_name(law), tuple(sections[law]), items[law]) for law in order)


# --- figures --------------------------------------------------------------------------------


def headline(data: DigestData, sections: Sequence[TopicSection]) -> Headline:
    """Today's relevant items against the average of the previous days that have history.

    Its story figures are those of the Top stories sections (news and social media, each
    story once), so the reader can add them up: the stories in all, and the busiest
    topic's count is that section's. Reddit and Parliament are counted as items.
    """
    last = len(data.days) - 1
    starts = range(max(0, last - AVERAGE_DAYS), last)
    history = data.history_start
    earlier = [n for n in starts if history is not None and history < _day_end(data, n)]

    def count(n: int, media: str | None = None, relevant: int | None = 1) -> int:
        return sum(c for (day, m, rel), c in data.media_counts.items()
                   if day == n and rel == relevant and (media is None or m == media))

    def average(media: str | None) -> float | None:
        return mean(count(n, media) for n in earlier) if earlier else None

    seen = {m for (_n, m, _r) in data.media_counts}
    order = list(MEDIA) + sorted(seen - set(MEDIA))
    by_media = tuple(
        MediaFigure(m, media_name(m), count(last, m), average(m))
        for m in order
        if m in ("news", "reddit") or count(last, m) or (average(m) or 0) > 0
    )
    # by main topic (nearly every relevant item also carries the catch-all "child online
    # safety"); on a tie, the first in the campaign's order, as the sections are
    busiest = min(sections, key=lambda section: -section.total) if sections else None
    collected = sum(c for (day, _m, _r), c in data.media_counts.items() if day == last)
    return Headline(
        relevant=count(last),
        average=average(None),
        average_days=len(earlier),
        stories=sum(section.total for section in sections),
        by_media=by_media,
        busiest=busiest.name if busiest else None,
        busiest_stories=busiest.total if busiest else 0,
        collected=collected,
        untagged=count(last, None, None),
    )


def _day_end(data: DigestData, n: int) -> datetime:
    return from_iso(data.days[n][1])  # type: ignore[return-value]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def topics_phrase(topics: Iterable[str]) -> str:
    names = [topic_name(t).lower() for t in topics]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


MEDIA_PHRASES = {"news": "in the news", "reddit": "on Reddit", "parliament": "in Parliament",
                 "social": "on social media"}


def media_phrase(media: Iterable[str]) -> str:
    return " and ".join(MEDIA_PHRASES.get(m, "from " + media_name(m)) for m in media)


def platform_section(data: DigestData, config: DigestConfig, period_days: int) -> PlatformSection:
    counts = data.platforms
    totals = counts.totals
    rows = []
    for platform, values in counts.by_platform.items():
        today, recent, previous = values.get("today", 0), values.get("recent", 0), values.get("previous", 0)
        if not (today or recent):
            continue
        recent_share = _share(recent, totals.get("recent", 0))
        previous_share = _share(previous, totals.get("previous", 0))
        rows.append(
            PlatformShare(
                id=platform,
                name=platform_name(platform),
                today=today,
                today_share=_share(today, totals.get("today", 0)),
                recent=recent,
                recent_share=recent_share,
                previous_share=previous_share,
                change=None if recent_share is None or previous_share is None
                else 100 * (recent_share - previous_share),
            )
        )
    rows.sort(key=lambda r: (-(r.today_share or 0), -(r.recent_share or 0), r.name))
    return PlatformSection(
        topics=topics_phrase(config.platform_topics),
        media=media_phrase(config.platform_media),
        today_total=totals.get("today", 0),
        recent_total=totals.get("recent", 0),
        previous_total=totals.get("previous", 0),
        period_days=period_days,
        rows=tuple(rows[:PLATFORMS_SHOWN]),
    )


def figure_label(value: str, unit: str, of: str | None) -> str:
    """The figure as the team would cite it: "37% of cases", "€20 million fines".

    A bare "37%" is not a figure anyone can check; what it is of is part of it.
    """
    value = short(value, 40)
    what = short(of or "", 30)
    if not value or not what:
        return value
    return f"{value} of {what}" if unit == "%" else f"{value} {what}"


def quoted_figures(data: DigestData, window: Window) -> tuple[list[QuotedFigure], int]:
    """Each sentence quoting figures today once, with its figures and every outlet that
    quoted it (syndicated copies quote the same sentence). Outlets only: figures in
    Reddit posts are not citations."""
    items = {row.id: row for row in data.items if row.media != "reddit"}
    grouped: dict[str, tuple[str, list[str], list[ItemRow]]] = {}
    for stat in data.statistics:
        row = items.get(stat.item_id)
        value = figure_label(stat.value, stat.unit, stat.of)
        if row is None or not value:
            continue
        sentence = short(stat.sentence, 400)
        _sentence, values, rows = grouped.setdefault(sentence.casefold() or value.casefold(), (sentence, [], []))
        if value not in values:
            values.append(value)
        if row not in rows:
            rows.append(row)
    figures = []
    for sentence, values, rows in grouped.values():
        links = _links(sorted(rows, key=lambda r: (r.published_at, r.id)), window.timezone)
        figures.append(QuotedFigure(tuple(values[:4]), sentence, tuple(links)))
    figures.sort(key=lambda f: -len(f.links))  # stable: otherwise in the order they were quoted
    return figures[:FIGURES_SHOWN], max(0, len(figures) - FIGURES_SHOWN)


def reddit_threads(data: DigestData, window: Window) -> tuple[Thread, ...]:
    """The most discussed relevant Reddit threads of the day."""
    rows = [row for row in data.items if row.media == "reddit"]
    rows.sort(key=lambda r: (-(r.comments or 0), -(r.popularity or 0), r.published_at))
    return tuple(
        Thread(short(row.title, TITLE_MAX) or "(untitled)", safe_url(row.url), community(row), row.comments or 0,
               row.popularity or 0, _local(row.published_at, window.timezone))
        for row in rows[:THREADS_SHOWN]
    )


# --- Parliament ------------------------------------------------------------------------------

HOUSE_NAMES = {"commons": "House of Commons", "lords": "House of Lords"}
_LAST_BRACKET = re.compile(r"\(([^()]*)\)\s*$")
# A sentence ends at . ! or ? before a capital, but not after the abbreviations debates are
# full of ("the hon. Member", "Mr. Speaker").
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\bhon\.)(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)"
                           r"(?<!\bNo\.)(?<!\bRt\.)\s+(?=[\"'“‘(A-Z0-9])")
# What makes a passage of a long speech worth quoting: the campaign's subjects.
SUBJECT_WORDS = ("groom", "sextort", "abuse", "exploit", "online safety", "ofcom", "child", "young people",
                 "teenage", "platform", "social media")


def speaker_of(row: ItemRow) -> tuple[str, str | None]:
    """(``Helen Marlowe (Lab)``, an office or None) from a contribution's stored fields."""
    extra = row.extra
    member = short(extra.get("member") if isinstance(extra.get("member"), str) else "", 80)
    party = short(extra.get("party") if isinstance(extra.get("party"), str) else "", 20)
    attributed = short(extra.get("attributed_to") if isinstance(extra.get("attributed_to"), str) else "", 200)
    if not member:
        return attributed or "Unattributed speaker", None
    # "The Minister for Safeguarding (Nadia Quill)", "The Minister of State, Home Office (Lord
    # Hanson of Flint) (Lab)": an office with the speaker's name in brackets after it.
    rest = attributed
    if party and rest.endswith(f"({party})"):
        rest = rest[: -len(party) - 2].rstrip()
    bracket = _LAST_BRACKET.search(rest)
    role = None
    if bracket and member.casefold() in bracket.group(1).casefold() and rest[: bracket.start()].strip():
        role = short(rest[: bracket.start()], 120)
    return (f"{member} ({party})" if party else member), role


def passage(text: str, words: Iterable[str], limit: int = PASSAGE_MAX) -> str:
    """The sentences of a speech that are about the campaign's subjects: from the first
    sentence naming one of ``words`` on, up to ``limit`` characters (the speech's start
    when none does). Hansard speeches run to pages; the digest quotes the part that matters."""
    clean = clean_text(text)
    if len(clean) <= limit:
        return clean
    sentences = _SENTENCE_END.split(clean)
    lowered = [sentence.casefold() for sentence in sentences]
    wanted = [w.casefold() for w in words if w]
    start = next((i for i, sentence in enumerate(lowered) if any(w in sentence for w in wanted)), 0)
    chosen = " ".join(sentences[start:])
    prefix = "… " if start else ""
    return prefix + short(chosen, limit - len(prefix))


def _sitting(row: ItemRow) -> date:
    value = row.extra.get("sitting_date")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else row.published_at.date()
    except ValueError:
        return row.published_at.date()


def _debate_url(url: str | None) -> str | None:
    safe = safe_url(url)
    return safe.split("#", 1)[0] if safe else None


def parliament_debates(rows: Sequence[ItemRow]) -> tuple[list[Debate], int]:
    """Relevant contributions grouped by debate: who said what, in the order they spoke.

    Debates with the most relevant contributions come first, then the latest sittings;
    at most :data:`DEBATES_SHOWN` debates and :data:`CONTRIBUTIONS_SHOWN` contributions
    each are shown (the rest are counted). Returns (debates, debates not shown).
    """
    groups: dict[tuple[str, ...], list[ItemRow]] = defaultdict(list)
    for row in rows:
        debate_id = row.extra.get("debate_id")
        key = ((debate_id,) if isinstance(debate_id, str) and debate_id
               else (str(row.extra.get("debate")), str(row.extra.get("house")), _sitting(row).isoformat()))
        groups[key].append(row)
    debates = []
    for members in groups.values():
        members.sort(key=lambda r: (_order(r), r.published_at, r.id))
        first = members[0]
        house = clean_text(str(first.extra.get("house") or ""))
        contributions = []
        for row in members[:CONTRIBUTIONS_SHOWN]:
            speaker, role = speaker_of(row)
            words = SUBJECT_WORDS + tuple(platform_name(p) for p in row.platforms) + tuple(
                law_name(x).split(" (")[0] for x in row.legislation)
            contributions.append(Contribution(speaker, role, passage(row.text, words), safe_url(row.url),
                                              row.topics, row.platforms, row.legislation))
        debates.append(Debate(
            title=short(str(first.extra.get("debate") or first.title), TITLE_MAX) or "(untitled debate)",
            house=HOUSE_NAMES.get(house.casefold(), short(house, 40) or "Parliament"),
            section=short(str(first.extra.get("section") or ""), 60) or None,
            sitting=_sitting(first),
            url=_debate_url(first.url),
            contributions=tuple(contributions),
            more=max(0, len(members) - CONTRIBUTIONS_SHOWN),
        ))
    debates.sort(key=lambda d: (-(len(d.contributions) + d.more), -d.sitting.toordinal(), d.title))
    return debates[:DEBATES_SHOWN], max(0, len(debates) - DEBATES_SHOWN)


def _order(row: ItemRow) -> int:
    order = row.extra.get("order")
    return order if isinstance(order, int) and not isinstance(order, bool) else 1_000_000


# --- source health --------------------------------------------------------------------------


def duration_words(delta: timedelta) -> str:
    """``timedelta(hours=50)`` -> ``"2 days"``: how long, the way a person would say it."""
    hours = delta.total_seconds() / 3600
    if hours < 1:
        minutes = max(1, round(hours * 60))
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if hours < 48:
        whole = round(hours)
        return f"{whole} hour{'s' if whole != 1 else ''}"
    days = round(hours / 24)
    return f"{days} days"


def _when(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return "never"
    local = moment.astimezone(zone(tz))
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def source_problems(rows: Iterable[SourceRow], now: datetime, config: DigestConfig,
                    unavailable: Mapping[str, str] | None = None) -> tuple[SourceProblem, ...]:
    """Sources the team should know about: gone (410), failing, never collected since
    they were added (after ``silent_min_hours``), or silent for longer than
    ``silent_multiple`` times their usual gap between items (and at least
    ``silent_min_hours``). ``unavailable`` gives, by source kind, why a collector cannot
    run now (``Monitor.unavailable_kinds``: missing credentials). Pure, so the rules can
    be tested on their own.
    """
    tz = config.timezone
    problems = []
    for row in rows:
        name = short(row.name, 80)
        if row.gone_at is not None:
            problems.append(SourceProblem(
                name, "gone",
                f"Stopped since {_when(row.gone_at, tz)}: the server says this feed no longer exists (HTTP 410). "
                "Fix or remove its address in the configuration.", None, row.id, row.gone_at, row.media))
        elif row.failures > 0:
            since = row.failing_since or row.last_error_at
            attempts = plural(row.failures, "failed attempt")
            worked = (f"last worked {_when(row.last_success_at, tz)}" if row.last_success_at is not None
                      else "it has never worked")
            summary = f"Failing since {_when(since, tz)} ({attempts} in a row); {worked}"
            if row.next_due_at is not None:
                summary += f"; next try {_when(row.next_due_at, tz)}"
            problems.append(SourceProblem(name, "failing", summary + ".", short(row.last_error, 300) or None,
                                          row.id, since, row.media))
        elif not row.collected and now - row.created_at > timedelta(hours=config.silent_min_hours):
            reason = (unavailable or {}).get(row.kind) or row.last_run_error or row.last_error
            summary = (f"Nothing has been collected from it since it was added on {_when(row.created_at, tz)}"
                       f" ({duration_words(now - row.created_at)} ago)")
            summary += "." if reason else "; no collection has reached it yet. Is the service running?"
            problems.append(SourceProblem(name, "never", summary, short(reason, 300) or None, row.id,
                                          row.created_at, row.media))
        else:
            silent = _silence(row, now, config)
            if silent:
                problems.append(SourceProblem(name, "silent", silent, None, row.id, row.last_item_at or row.created_at,
                                              row.media))
    rank = {"gone": 0, "failing": 1, "never": 2, "silent": 3}
    problems.sort(key=lambda p: (rank[p.state], p.name.casefold()))
    return tuple(problems)


def source_health(rows: Sequence[SourceRow], now: datetime, config: DigestConfig,
                  unavailable: Mapping[str, str] | None = None) -> Health:
    """The health section: the problems, a sentence counting them, and for each source
    type some of whose sources bring nothing in, a note for its sections (an empty
    "On Reddit" must not read as a quiet day when Reddit is not being collected)."""
    problems = source_problems(rows, now, config, unavailable)
    checked = len(rows)
    if not checked:
        summary = "No sources are configured."
    elif not problems:
        summary = (f"All {checked:,} sources are working normally." if checked > 1
                   else "The one source is working normally.")
    else:
        states = Counter(p.state for p in problems)
        parts = ", ".join(f"{states[s]} {STATE_LABELS[s]}" for s in STATE_LABELS if states[s])
        rest = checked - len(problems)
        summary = (f"{len(problems):,} of {plural(checked, 'source')} {'needs' if len(problems) == 1 else 'need'}"
                   f" attention ({parts})")
        if rest:
            summary += ("; the other one is working normally." if rest == 1
                        else f"; the other {rest:,} are working normally.")
        else:
            summary += "."
    totals = Counter(row.media for row in rows)
    down = Counter(p.media for p in problems if p.not_collected)
    gaps = {}
    for media, count in down.items():
        total, kind = totals[media], SOURCE_WORDS.get(media, media_name(media))
        if count == total:
            gap = f"The {kind} source is not" if total == 1 else f"None of the {total} {kind} sources is"
        else:
            gap = f"{count} of the {total} {kind} sources {'is' if count == 1 else 'are'} not"
        gaps[media] = gap + " being collected: see Source health."
    return Health(problems, checked, summary, gaps)


def _silence(row: SourceRow, now: datetime, config: DigestConfig) -> str | None:
    floor = timedelta(hours=config.silent_min_hours)
    if row.last_item_at is None:
        if row.carried_recently:
            return None  # a search repeating stories other sources brought in first
        if now - row.created_at > max(NEW_SOURCE_GRACE, floor) and row.last_success_at is not None:
            return (f"No items at all since it was added on {_when(row.created_at, config.timezone)},"
                    " though it answers normally.")
        return None
    if row.items < MIN_HISTORY_ITEMS or row.usual_gap_hours is None or row.last_item_at is None:
        return None
    usual = timedelta(hours=row.usual_gap_hours)
    quiet = now - min(row.last_item_at, now)
    if quiet > max(usual * config.silent_multiple, floor):
        return (f"No new items for {duration_words(quiet)} (usually one every {duration_words(usual)}); "
                f"the last was published {_when(row.last_item_at, config.timezone)}.")
    return None


# --- chart ----------------------------------------------------------------------------------


def chart_data(data: DigestData, window: Window, config: DigestConfig) -> ChartData:
    """Per-day series for the chart: relevant items by topic, or grooming stories per platform."""
    n = len(data.days)
    days = tuple(window.day - timedelta(days=n - 1 - i) for i in range(n))
    span = f"{days[0].day} {days[0]:%b} to {days[-1].day} {days[-1]:%b}"
    if config.chart == "platforms":
        totals_by: Counter[str] = Counter()
        for (_day, platform), count in data.platform_day_counts.items():
            totals_by[platform] += count
        top = sorted(totals_by, key=lambda p: (-totals_by[p], p))[:6]
        series = tuple((platform_name(p), tuple(data.platform_day_counts.get((i, p), 0) for i in range(n)))
                       for p in top)
        topics = topics_phrase(config.platform_topics)
        title = f"{topics.capitalize()} stories {media_phrase(config.platform_media)} naming each platform, per day"
        empty = not any(sum(values) for _name, values in series)
        alt = f"{title}, {span}: " + "; ".join(f"{name} {sum(values)} in all" for name, values in series)
        reason = f"No {topics} stories named a platform in the last {n} days, so there is no chart."
        return ChartData("platforms", title, days, None, series, alt, reason if empty else None)
    totals = tuple(sum(c for (d, _m, rel), c in data.media_counts.items() if d == i and rel == 1) for i in range(n))
    present = {topic for (_d, topic) in data.topic_counts}
    order = [t for t in SECTION_ORDER if t in present] + sorted(present - set(SECTION_ORDER))
    series = tuple((topic_name(t), tuple(data.topic_counts.get((i, t), 0) for i in range(n))) for t in order)
    title = "Relevant items per day, by topic"
    alt = (f"{title}, {span}: {sum(totals)} relevant items in all, at most {max(totals, default=0)} in a day; "
           + "; ".join(f"{name} {sum(values)}" for name, values in series))
    waiting = sum(c for (_d, _m, rel), c in data.media_counts.items() if rel is None)
    reason = f"No relevant items in the last {n} days, so there is no chart yet."
    if waiting:
        reason = (f"No relevant items in the last {n} days ({waiting:,} items are still waiting to be checked"
                  " for relevance), so there is no chart yet.")
    return ChartData("topics", title, days, totals, series, alt, None if sum(totals) else reason)


# --- the whole digest -----------------------------------------------------------------------


def subject_line(window: Window, head: Headline, complete: bool) -> str:
    """Our own words and counts only: never a collected title (see NOTES: headers)."""
    day = window.day
    when = f"{day:%a} {day.day} {day:%b} {day.year}"
    if head.relevant == 0:
        counts = "no relevant items"
    else:
        counts = plural(head.relevant, "relevant item")
        if head.stories:
            counts += ", " + plural(head.stories, "top story", "top stories")
        if head.busiest:
            counts += f"; busiest topic: {head.busiest}"
    preview = " (preview, day not over)" if not complete else ""
    return clean_text(f"Online child safety briefing, {when}: {counts}{preview}")


def build_digest(data: DigestData, window: Window, config: DigestConfig, now: datetime,
                 unavailable: Mapping[str, str] | None = None) -> Digest:
    """The digest for ``window`` from the rows read for it. Pure: same input, same digest.
    ``unavailable``: why sources of a kind cannot be collected now (see :func:`source_problems`)."""
    stories, leads = build_stories(data, window)
    sections = topic_sections(stories, config.stories_per_topic, leads)
    head = headline(data, sections)
    complete = now >= window.end
    figures, more_figures = quoted_figures(data, window)
    debates, more_debates = parliament_debates(data.parliament)
    return Digest(
        window=window,
        generated_at=_local(now, window.timezone),
        complete=complete,
        subject=subject_line(window, head, complete),
        headline=head,
        topics=sections,
        platforms=platform_section(data, config, len(data.days)),
        laws=law_sections(stories, data),
        figures=tuple(figures),
        more_figures=more_figures,
        threads=reddit_threads(data, window),
        parliament=tuple(debates),
        more_debates=more_debates,
        health=source_health(data.sources, now, config, unavailable),
        chart=chart_data(data, window, config),
    )

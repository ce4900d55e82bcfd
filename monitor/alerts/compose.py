"""Alerts -> one message: subject, plain text, HTML and webhook text. Pure.

Rare and explained: each alert says why it was sent (the rule and what it asks for,
the spike's figures against its baseline, the source's problem) and lists its stories,
each once with its outlets and links. The subject is our own words and counts (rule
names and series come from our configuration and tag names), never a collected title.
Everything a source wrote is cleaned (control characters, length), links must be
http(s), the HTML is autoescaped by Jinja2 and the webhook text escapes Slack's
control characters, so a headline cannot inject markup, headers or mentions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Sequence

from monitor.digest.build import outlet_of, safe_url, short, strip_outlet_suffix
from monitor.digest.days import zone
from monitor.sources.normalise import clean_text
from monitor.store.digest import ItemRow

TITLE_MAX = 200
SUBJECT_MAX = 160
STORIES_SHOWN = 10  # per alert; the rest are counted
LINKS_SHOWN = 5  # other outlets per story


@dataclass(frozen=True)
class Link:
    outlet: str
    url: str | None


@dataclass(frozen=True)
class StoryLine:
    """A story in an alert: its headline, lead outlet and link, and the other outlets."""

    key: str
    title: str
    outlet: str
    url: str | None
    published: datetime  # local time of the lead copy
    outlets: int
    others: tuple[Link, ...]


@dataclass(frozen=True)
class AlertView:
    """One alert as the reader sees it."""

    id: int
    kind: str  # rule | spike | health
    headline: str  # one line, our own words, saying what kind of alert it is
    reasons: tuple[str, ...]  # why it was sent, in sentences
    stories: tuple[StoryLine, ...]
    more: int  # stories not shown
    created: datetime  # local time
    above: int = 0  # of its stories, already listed by an earlier alert of the message


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    chat: str  # the webhook's text (Slack mrkdwn, escaped)


def story_lines(rows: Iterable[ItemRow], tz: str, titles: dict[str, str] | None = None) -> list[StoryLine]:
    """Items -> one line per story (cluster), lead = the earliest copy, newest story first.
    ``titles`` are cluster headlines by cluster id (publisher suffix already removed)."""
    groups: dict[str, list[ItemRow]] = {}
    for row in rows:
        groups.setdefault(row.cluster_id or row.id, []).append(row)
    local = zone(tz)
    lines = []
    for key, copies in groups.items():
        copies.sort(key=lambda r: (r.published_at, r.id))
        lead = copies[0]
        outlet = outlet_of(lead)
        outlets: dict[str, Link] = {}
        for row in copies:
            outlets.setdefault(outlet_of(row), Link(outlet_of(row), safe_url(row.url)))
        heading = (titles or {}).get(key) or lead.title
        heading = strip_outlet_suffix(clean_text(heading), outlet)
        if heading.startswith(outlet + " — "):  # a speech: "Member (Party) — Debate", and the member is the outlet
            heading = heading[len(outlet) + 3:]
        title = short(heading, TITLE_MAX) or "(untitled)"
        others = [link for name, link in outlets.items() if name != outlet]
        lines.append(StoryLine(key, title, outlet, safe_url(lead.url), lead.published_at.astimezone(local),
                               len(outlets), tuple(others[:LINKS_SHOWN])))
    lines.sort(key=lambda s: (-s.published.timestamp(), s.title))
    return lines


def subject_of(alerts: Sequence[AlertView]) -> str:
    """``Alert: Spike: Snapchat + sextortion: 14 items in 6 h; usual 2.1 +/- 1.3`` or
    ``3 alerts: ...`` with each headline shortened (with "...": a non-ASCII ellipsis
    would make the header an encoded word, which some readers unfold with stray spaces)."""
    if len(alerts) == 1:
        text = f"Alert: {alerts[0].headline}"
    else:
        text = f"{len(alerts)} alerts: " + "; ".join(_cut(a.headline, 70) for a in alerts)
    return _cut(clean_text(text), SUBJECT_MAX)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "..."


def compose(alerts: Sequence[AlertView], tz: str, now: datetime) -> Message:
    """The message carrying ``alerts`` (sent together: same channel, due together)."""
    local_now = now.astimezone(zone(tz))
    alerts = _without_repeats(alerts)
    return Message(
        subject=clean_text(subject_of(alerts)),
        text=_text(alerts, local_now, tz),
        html=environment().get_template("alert.html.j2").render(alerts=alerts, now=local_now, zone=_zone(tz),
                                                                subject=subject_of(alerts),
                                                                listed_above=_listed_above),
        chat=_chat(alerts),
    )


def _without_repeats(alerts: Sequence[AlertView]) -> list[AlertView]:
    """A story listed by an earlier alert of the same message (a topic's spike and its
    platform's) is not listed again, only counted."""
    from dataclasses import replace

    seen: set[str] = set()
    result = []
    for alert in alerts:
        fresh = tuple(s for s in alert.stories if s.key not in seen)
        seen.update(s.key for s in alert.stories)
        result.append(replace(alert, stories=fresh, above=alert.above + len(alert.stories) - len(fresh)))
    return result


def _zone(tz: str) -> str:
    return {"Europe/London": "UK time"}.get(tz, tz)


def when(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b} {moment:%H:%M}"


def _text(alerts: Sequence[AlertView], now: datetime, tz: str) -> str:
    lines = [f"Alert{'s' if len(alerts) != 1 else ''} from the online child safety monitor, {when(now)}"
             f" ({_zone(tz)})", ""]
    for number, alert in enumerate(alerts, 1):
        prefix = f"{number}. " if len(alerts) > 1 else ""
        lines.append(f"{prefix}{alert.headline}")
        for reason in alert.reasons:
            lines.append(f"   {reason}")
        if alert.above:
            lines.append(f"   {_listed_above(alert.above)}")
        for story in alert.stories:
            lines.append("")
            lines.append(f" - {story.title}")
            carried = f"; carried by {story.outlets} outlets" if story.outlets > 1 else ""
            lines.append(f"   {story.outlet}, {when(story.published)}{carried}")
            if story.url:
                lines.append(f"   {story.url}")
            for link in story.others:
                lines.append(f"   also {link.outlet}" + (f": {link.url}" if link.url else ""))
        if alert.more:
            lines.append(f"   ... and {alert.more} more stor{'ies' if alert.more != 1 else 'y'}"
                         " (`monitor alerts` lists the alert)")
        lines.append("")
    lines.append("Sent by the monitor's alerts ([alerts] in its configuration); `monitor alerts` lists every alert.")
    return "\n".join(lines).strip() + "\n"


def _listed_above(count: int) -> str:
    return "Its story is listed above." if count == 1 else f"{count} of its stories are listed above."


def slack_escape(value: str) -> str:
    """Slack's three control characters; with them escaped, nothing a source wrote can
    become a link, a mention (<!channel>) or formatting markup."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chat(alerts: Sequence[AlertView]) -> str:
    lines = []
    for alert in alerts:
        lines.append(f"*{slack_escape(alert.headline)}*")
        lines.extend(f"{slack_escape(reason)}" for reason in alert.reasons)
        if alert.above:
            lines.append(_listed_above(alert.above))
        for story in alert.stories:
            carried = f", {story.outlets} outlets" if story.outlets > 1 else ""
            lines.append(f"• {slack_escape(story.title)} ({slack_escape(story.outlet)}{carried})")
            if story.url:
                lines.append(f"  {slack_escape(story.url)}")
        if alert.more:
            lines.append(f"… and {alert.more} more")
        lines.append("")
    return "\n".join(lines).strip()


@lru_cache(maxsize=1)
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.alerts", "templates"),
        autoescape=True,  # every value from a source arrives as text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    return env

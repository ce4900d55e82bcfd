"""Our own invented demo corpus (``corpus.json``), rendered as RSS and Atom feeds.

Every outlet, person, case and figure in the corpus is fictional and written for this
project; it exists so the whole pipeline can be shown and tested offline without
shipping anyone else's articles.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from monitor.sources.normalise import safe_html

NOTICE = "Invented demo text written for the monitor project; not real news."


@lru_cache(maxsize=1)
def load_corpus() -> dict[str, Any]:
    """The corpus as shipped inside the package."""
    text = resources.files("monitor.demo").joinpath("corpus.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class DemoEntry:
    feed_slug: str
    guid: str | None
    title: str
    summary_html: str
    path: str
    published: datetime
    author: str | None
    categories: tuple[str, ...]


def entries(feed: dict[str, Any], now: datetime) -> list[DemoEntry]:
    """A feed's items with absolute publication times relative to ``now``, newest first."""
    result = [
        DemoEntry(
            feed_slug=feed["slug"],
            guid=item.get("guid"),
            title=item["title"],
            summary_html=item["summary_html"],
            path=item["path"],
            published=now - timedelta(hours=float(item["hours_ago"])),
            author=item.get("author"),
            categories=tuple(item.get("categories") or ()),
        )
        for item in feed["items"]
    ]
    result.sort(key=lambda e: e.published, reverse=True)
    return result


def render_rss(title: str, link: str, description: str, items: list[DemoEntry], base_url: str) -> bytes:
    """An RSS 2.0 document for ``items`` (links absolute on ``base_url``)."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "<channel>",
        f"<title>{escape(title)}</title>",
        f"<link>{escape(base_url + link)}</link>",
        f"<description>{escape(description)} {escape(NOTICE)}</description>",
        "<language>en-gb</language>",
    ]
    for entry in items:
        out.append("<item>")
        out.append(f"<title>{escape(entry.title)}</title>")
        out.append(f"<link>{escape(base_url + entry.path)}</link>")
        if entry.guid:
            out.append(f'<guid isPermaLink="false">{escape(entry.guid)}</guid>')
        out.append(f"<description>{escape(entry.summary_html)}</description>")
        out.append(f"<pubDate>{format_datetime(entry.published, usegmt=True)}</pubDate>")
        if entry.author:
            out.append(f"<dc:creator>{escape(entry.author)}</dc:creator>")
        for category in entry.categories:
            out.append(f"<category>{escape(category)}</category>")
        out.append("</item>")
    out += ["</channel>", "</rss>"]
    return "\n".join(out).encode("utf-8")


def render_atom(title: str, link: str, description: str, items: list[DemoEntry], base_url: str, feed_id: str) -> bytes:
    """An Atom 1.0 document; entry links are relative (resolved against the feed's xml:base)."""
    updated = max((e.published for e in items), default=datetime.now(timezone.utc))
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base={quoteattr(base_url + "/")}>',
        f"<title>{escape(title)}</title>",
        f"<subtitle>{escape(description)} {escape(NOTICE)}</subtitle>",
        f'<link rel="alternate" href={quoteattr(link.lstrip("/"))}/>',
        f"<id>urn:monitor-demo:{escape(feed_id)}</id>",
        f"<updated>{updated.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>",
    ]
    for entry in items:
        out.append("<entry>")
        out.append(f"<title>{escape(entry.title)}</title>")
        out.append(f'<link rel="alternate" href={quoteattr(entry.path.lstrip("/"))}/>')
        out.append(f"<id>urn:monitor-demo:{escape(entry.guid or entry.path)}</id>")
        stamp = entry.published.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(f"<published>{stamp}</published><updated>{stamp}</updated>")
        if entry.author:
            out.append(f"<author><name>{escape(entry.author)}</name></author>")
        out.append(f'<summary type="html">{escape(entry.summary_html)}</summary>')
        for category in entry.categories:
            out.append(f"<category term={quoteattr(category)}/>")
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out).encode("utf-8")


def render_feed(feed: dict[str, Any], now: datetime, base_url: str) -> bytes:
    items = entries(feed, now)
    if feed.get("format") == "atom":
        return render_atom(feed["name"], feed["link"], feed.get("description", ""), items, base_url, feed["slug"])
    return render_rss(feed["name"], feed["link"], feed.get("description", ""), items, base_url)


def article_page(entry: DemoEntry, outlet: str) -> bytes:
    """A minimal article page, so links in the digest open something offline."""
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{escape(entry.title)}</title>"
        f"<p><em>{escape(outlet)} &mdash; {escape(NOTICE)}</em></p>"
        f"<h1>{escape(entry.title)}</h1>{safe_html(entry.summary_html)}</html>"
    )
    return page.encode("utf-8")


def reddit_post(post: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An invented corpus post as Reddit's t3 ``data`` (the fields praw and we read)."""
    created = (now - timedelta(hours=float(post["hours_ago"]))).timestamp()
    subreddit = post["subreddit"]
    slug = "_".join("".join(ch if ch.isalnum() else " " for ch in post["title"].lower()).split()[:8])
    permalink = f"/r/{subreddit}/comments/{post['id']}/{slug}/"
    selftext = post.get("selftext") or ""
    paragraphs = "".join(f"<p>{escape(part.strip())}</p>\n" for part in selftext.split("\n\n") if part.strip())
    link = post.get("url")
    return {
        "id": post["id"],
        "name": f"t3_{post['id']}",
        "title": post["title"],
        "selftext": selftext,
        "selftext_html": f'<!-- SC_OFF --><div class="md">{paragraphs}</div><!-- SC_ON -->' if selftext else None,
        "author": post["author"],
        "subreddit": subreddit,
        "subreddit_name_prefixed": f"r/{subreddit}",
        "created_utc": float(int(created)),
        "permalink": permalink,
        "url": link or f"https://www.reddit.com{permalink}",
        "is_self": not link,
        "domain": urlsplit_host(link) if link else f"self.{subreddit}",
        "score": post["score"],
        "num_comments": post["num_comments"],
        "over_18": bool(post.get("over_18")),
        "removed_by_category": None,
        "link_flair_text": None,
        "upvote_ratio": 0.97,
        "edited": False,
    }


def urlsplit_host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").removeprefix("www.")


def hansard_contribution(contribution: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An invented corpus contribution in the Hansard API's result shape."""
    # days_ago 0: the sitting whose noon is in the 24 hours before ``now`` (the digest's day)
    sitting = (now - timedelta(days=float(contribution["days_ago"]), hours=12)).date()
    text = contribution["text"]
    return {
        "MemberName": contribution["member"],
        "MemberId": contribution["member_id"],
        "AttributedTo": contribution["attributed_to"],
        "ItemId": 90_000_000 + int(contribution["id"][-3:]),
        "ContributionExtId": contribution["id"],
        "ContributionText": " " + text[:250],
        "ContributionTextFull": text,
        "HRSTag": "hs_Para",
        "HansardSection": None,
        "Timecode": None,
        "DebateSection": contribution["debate"],
        "DebateSectionId": 9_000_000 + int(contribution["debate_id"][-3:]),
        "DebateSectionExtId": contribution["debate_id"],
        "SittingDate": f"{sitting.isoformat()}T00:00:00",
        "Section": contribution["section"],
        "House": contribution["house"],
        "OrderInDebateSection": contribution["order"],
        "DebateSectionOrder": contribution["debate_order"],
        "Rank": 100 - contribution["order"],
    }


def mastodon_status(post: dict[str, Any], now: datetime, home: str, local_id: str) -> dict[str, Any]:
    """An invented corpus post as a Mastodon status of its home instance (base URL
    ``home``), with the id that instance gave it."""
    created = now - timedelta(hours=float(post["hours_ago"]))
    user = post["user"]
    return {
        "id": local_id,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": bool(post.get("sensitive")),
        "spoiler_text": post.get("spoiler_text", ""),
        "visibility": "public",
        "language": "en",
        "uri": f"{home}/users/{user}/statuses/{local_id}",
        "url": f"{home}/@{user}/{local_id}",
        "replies_count": post.get("replies", 0),
        "reblogs_count": post.get("reblogs", 0),
        "favourites_count": post.get("favourites", 0),
        "edited_at": None,
        "content": post["content"].replace("{home}", home),
        "reblog": None,
        "account": {
            "id": str(zlib.crc32(user.encode("utf-8"))),
            "username": user,
            "acct": user,
            "display_name": user,
            "bot": False,
            "noindex": bool(post.get("noindex")),
            "note": f"<p>{escape(NOTICE)}</p>",
            "url": f"{home}/@{user}",
            "uri": f"{home}/users/{user}",
        },
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": tag.lower(), "url": f"{home}/tags/{tag.lower()}"} for tag in post.get("tags", [])],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def bluesky_post(post: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An invented corpus post as a Bluesky postView (what searchPosts returns)."""
    created = now - timedelta(hours=float(post["hours_ago"]))
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    text = post["text"]
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": stamp, "text": text,
                              "langs": post.get("langs", ["en"])}
    link = post.get("link")
    if link:
        start = text.encode("utf-8").index(link["start"].encode("utf-8"))
        record["facets"] = [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": link["uri"]}],
                             "index": {"byteStart": start, "byteEnd": start + len(link["start"].encode("utf-8"))}}]
    if post.get("reply"):
        parent = {"cid": "bafyinventeddemoparent", "uri": f"at://{post['did']}/app.bsky.feed.post/3demoparent01"}
        record["reply"] = {"parent": parent, "root": parent}
    author_labels = []
    if post.get("no_unauthenticated"):
        author_labels.append({"src": post["did"], "uri": f"at://{post['did']}/app.bsky.actor.profile/self",
                              "val": "!no-unauthenticated", "cts": stamp})
    return {
        "uri": f"at://{post['did']}/app.bsky.feed.post/{post['rkey']}",
        "cid": "bafyinventeddemo" + post["rkey"],
        "author": {"did": post["did"], "handle": post["handle"], "displayName": post["handle"].split(".")[0],
                   "labels": author_labels, "createdAt": "2024-01-01T00:00:00.000Z"},
        "record": record,
        "replyCount": post.get("replies", 0),
        "repostCount": post.get("reposts", 0),
        "likeCount": post.get("likes", 0),
        "quoteCount": 0,
        "indexedAt": stamp,
        "labels": [],
    }

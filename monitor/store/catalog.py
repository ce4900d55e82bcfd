"""Titles and one-paragraph descriptions of every table and view an analyst may query.

The one place they are written: Datasette's metadata (``monitor browse``) is built
from here, and a test checks that every table and view the migrations create has an
entry, so a new table cannot arrive undocumented. Keep the README's database section
in step.
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    title: str
    description: str


TABLES: dict[str, Entry] = {
    "items": Entry(
        "Items",
        "One row per collected item (news article, Reddit thread, contribution in Parliament, social post ...): title, plain text, normalised URL, "
        "published / collected times (UTC), the tagger's verdict (relevant 1/0, score, why) and engagement "
        "(Reddit score, comments). Search it with the search box: words, \"phrases\", OR, NOT, "
        "NEAR(a b, 10), prefixes groom* (items deleted upstream are not in the index); the saved query "
        "\"Search items\" shows matches best first with a snippet.",
    ),
    "sources": Entry("Sources", "One row per configured source (feed, news search, subreddit ...); id is stable."),
    "item_sources": Entry("Item sources", "Every source that carried an item, with the GUID it used there."),
    "item_tags": Entry(
        "Item tags (long form)",
        "One row per (item, kind, value); kind is topic, platform, legislation or organisation. "
        "See tagged_items for one row per item.",
    ),
    "item_statistics": Entry(
        "Quoted figures",
        "Figures quoted in items (\"37%\", \"1,220\", \"€20 million\") with unit, what the figure is of or for "
        "(of: \"cases\" in \"37% of cases\", \"fines\" in \"€20 million fines\"; empty when the text does not "
        "say) and sentence. Figures of every item, relevant or not: quoted_statistics lists the relevant ones.",
    ),
    "fetch_state": Entry(
        "Fetch state", "Per source: HTTP validators, next due time, consecutive failures and last error."
    ),
    "runs": Entry("Collection runs", "One row per source per collection run: status, counts, error."),
    "clusters": Entry(
        "Story clusters",
        "Syndicated stories: copies of one story across outlets share a cluster (items.cluster_id).",
    ),
    "rechecks": Entry(
        "Reddit re-checks",
        "One row per re-check of stored Reddit posts for upstream deletions: when, how many checked, purged "
        "and authors cleared, and any error.",
    ),
    "comment_fetches": Entry(
        "Fetched Reddit comments", "Reddit posts whose top-level comments were fetched, when, and how many."
    ),
    "digests": Entry(
        "Daily digests",
        "One row per digest date: the window it covers (UTC), subject, archive paths, headline counts and "
        "whether and when it was sent, to whom.",
    ),
    "maintenance_runs": Entry(
        "Maintenance runs",
        "One row per daily maintenance run: when, ok or failed, the integrity check, the backup file and its "
        "size, rows removed by retention, and any error.",
    ),
    "service_jobs": Entry(
        "Service jobs",
        "Each job of the service (collect, reddit, recheck, digest, alerts, maintenance): last start and end, status, "
        "error and summary, and runs, errors and missed runs since the service started.",
    ),
    "alerts": Entry(
        "Alerts",
        "One row per alert sent between digests: kind (rule: a story matching a priority rule; spike: a series "
        "above its baseline; health: a source failing, gone, silent or back to normal), channel (email or "
        "webhook), the rule names, series (topic or topic+platform) or source, what it said (title), why and "
        "the figures (detail, JSON), the items it listed (JSON), and delivery: status pending / sending / sent, "
        "attempts, last error, sent time.",
    ),
    "alert_items": Entry(
        "Alerted items", "Every item (all copies of a story) an alert covered, per channel: none is alerted twice."
    ),
    "reddit_posts": Entry(
        "Reddit posts",
        "Reddit items with subreddit, linked URL, author hash, score, comments, NSFW flag and flair as columns.",
    ),
    "hansard_contributions": Entry(
        "Contributions in Parliament",
        "Hansard contributions matching the configured searches: sitting date, House, member, party, debate, "
        "chamber or committee, the text and a link to it on hansard.parliament.uk.",
    ),
    "social_posts": Entry(
        "Mastodon and Bluesky posts",
        "Social media posts with their network, linked URL, author hash, likes, replies, reposts, language, "
        "whether a reply, and content warning as columns; id is the same on every instance: a Bluesky post's "
        "at:// uri, a hash of a Mastodon post's uri (which names its account).",
    ),
    # views (schema 0010_search_views)
    "relevant_items": Entry(
        "Relevant items", "Items the tagger found relevant, with source name and publication day (UTC)."
    ),
    "tagged_items": Entry(
        "Items with their tags",
        "Every item, one row each, with topics, platforms, legislation and organisations as JSON arrays.",
    ),
    "platform_daily": Entry(
        "Platforms per day",
        "Relevant items naming each platform, per day; grooming_items counts those about grooming "
        "(topic grooming or grooming_gangs).",
    ),
    "topic_daily": Entry("Topics per day", "Relevant items per topic per day."),
    "legislation_mentions": Entry(
        "Legislation mentions", "One row per (item, law) the item mentions, with its day, source and verdict."
    ),
    "quoted_statistics": Entry(
        "Quoted statistics",
        "One row per figure quoted in a relevant item, with its unit, what it is of (\"cases\" in \"37% of "
        "cases\"), the sentence, the outlet and the day.",
    ),
    "cluster_items": Entry(
        "Syndicated copies", "One row per copy of a syndicated story: the story, its outlet and its day."
    ),
    "source_health": Entry(
        "Source health",
        "Per source: ok / failing / gone / never collected / inactive, back-off state, items carried and "
        "the last week of runs.",
    ),
}

# Internal tables an analyst never needs (FTS shadow tables are hidden by Datasette itself):
# migration records, the full-text index (searched through items), planner statistics,
# MinHash signatures used only to find syndicated copies, and small pieces of program state.
HIDDEN = ("_sqlite_migrations", "items_fts", "sqlite_stat1", "sqlite_stat4", "item_signatures", "settings")

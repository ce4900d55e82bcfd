"""Sources: where items come from. ``http`` is the one HTTP client, ``normalise`` the
pure clean-up every collector shares, and one module per kind of source (``feeds``,
``reddit`` ...) turns what it fetches into :class:`~monitor.types.Item` objects."""

from __future__ import annotations

from urllib.parse import quote, quote_plus, urlencode, urlsplit

from monitor.config import Config, instance_base
from monitor.sources.normalise import slugify
from monitor.types import Source


def source_id(kind: str, name: str) -> str:
    return f"{kind}:{slugify(name)}"


def sources_from_config(config: Config) -> list[Source]:
    """Every configured source as a :class:`Source`, in config order."""
    return [source for _key, source in configured_sources(config)]


def configured_sources(config: Config) -> list[tuple[str, Source]]:
    """Every configured source with the dotted key of its config entry
    (``feeds[2].name``, ``mastodon.hashtags[0]``), in config order: for messages
    about one entry, such as two entries that would share a source id."""
    template = config.queries_settings.url_template
    pairs: list[tuple[str, Source]] = [
        (f"feeds[{index}].name",
         Source(id=source_id("feed", feed.name), kind="feed", name=feed.name, url=feed.url, tags=feed.tags,
                options=_interval(feed.interval_minutes)))
        for index, feed in enumerate(config.feeds)
    ]
    for index, query in enumerate(config.queries):
        url = template.replace("{terms}", quote_plus(query.terms))
        pairs.append((f"queries[{index}].name",
                      Source(id=source_id("query", query.name), kind="query", name=query.name, url=url,
                             tags=query.tags, options={"terms": query.terms, **_interval(query.interval_minutes)})))
    subreddits = len(config.reddit.subreddits)
    pairs += [(f"reddit.subreddits[{index}].name" if index < subreddits else f"reddit.searches[{index - subreddits}]",
               source) for index, source in enumerate(reddit_sources(config))]
    pairs += [(f"hansard.searches[{index}]", source) for index, source in enumerate(hansard_sources(config))]
    pairs += [(f"mastodon.hashtags[{index}]", source) for index, source in enumerate(mastodon_sources(config))]
    pairs += [(f"bluesky.searches[{index}]", source) for index, source in enumerate(bluesky_sources(config))]
    return pairs


def _interval(minutes: float | None) -> dict[str, float]:
    """A source's own polling interval, when its config entry sets one."""
    return {} if minutes is None else {"interval_minutes": minutes}


def reddit_sources(config: Config) -> list[Source]:
    """``[[reddit.subreddits]]`` and ``[[reddit.searches]]`` as sources.

    Ids: ``reddit_subreddit:parenting``, ``reddit_search:grooming-instagram-all`` (the
    query and the subreddit). The URL is the listing on Reddit's web site, for people.
    """
    reddit = config.reddit
    base = reddit.reddit_url.rstrip("/")
    sources = [
        Source(id=source_id("reddit_subreddit", sub.name), kind="reddit_subreddit", name=f"r/{sub.name}",
               url=f"{base}/r/{sub.name}/new/", tags=sub.tags, options={"subreddit": sub.name})
        for sub in reddit.subreddits
    ]
    for search in reddit.searches:
        restrict = {} if search.subreddit.lower() == "all" else {"restrict_sr": "1"}
        query = urlencode({"q": search.query, "sort": "new", **restrict})
        sources.append(
            Source(id=source_id("reddit_search", f"{search.query} {search.subreddit}"), kind="reddit_search",
                   name=f"Reddit search: {search.query} (r/{search.subreddit})",
                   url=f"{base}/r/{search.subreddit}/search/?{query}", tags=search.tags,
                   options={"query": search.query, "subreddit": search.subreddit})
        )
    return sources


def hansard_sources(config: Config) -> list[Source]:
    """``[[hansard.searches]]`` as sources: ``hansard:online-safety-act``. The URL is
    the same search on Hansard's web site, for people."""
    web = config.hansard.web_url.rstrip("/")
    return [
        Source(id=source_id("hansard", search.query), kind="hansard", name=f"Hansard: {search.query}",
               url=f"{web}/search/Contributions?{urlencode({'searchTerm': search.query})}", tags=search.tags,
               options={"query": search.query})
        for search in config.hansard.searches
    ]


def mastodon_sources(config: Config) -> list[Source]:
    """``[[mastodon.hashtags]]`` as sources: ``mastodon:mastodon-social-onlinesafetyact``
    (instance host and tag). The URL is the tag's page on that instance."""
    sources = []
    for hashtag in config.mastodon.hashtags:
        base = instance_base(hashtag.instance)
        host = urlsplit(base).netloc
        sources.append(
            Source(id=source_id("mastodon", f"{host} {hashtag.tag}"), kind="mastodon",
                   name=f"Mastodon #{hashtag.tag} on {host}", url=f"{base}/tags/{quote(hashtag.tag)}",
                   tags=hashtag.tags, options={"instance": base, "tag": hashtag.tag})
        )
    return sources


def bluesky_sources(config: Config) -> list[Source]:
    """``[[bluesky.searches]]`` as sources: ``bluesky:online-grooming``. The URL is the
    same search on the Bluesky web app, for people."""
    web = config.bluesky.web_url.rstrip("/")
    return [
        Source(id=source_id("bluesky", search.query), kind="bluesky", name=f"Bluesky search: {search.query}",
               url=f"{web}/search?{urlencode({'q': search.query})}", tags=search.tags,
               options={"query": search.query})
        for search in config.bluesky.searches
    ]

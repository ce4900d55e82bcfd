"""Sources: where items come from. ``http`` is the one HTTP client, ``normalise`` the
pure clean-up every collector shares, and one module per kind of source (``feeds``,
``reddit`` ...) turns what it fetches into :class:`~monitor.types.Item` objects."""

from __future__ import annotations

from urllib.parse import quote_plus

from monitor.config import Config
from monitor.sources.normalise import slugify
from monitor.types import Source


def source_id(kind: str, name: str) -> str:
    return f"{kind}:{slugify(name)}"


def sources_from_config(config: Config) -> list[Source]:
    """Every configured source as a :class:`Source`, in config order."""
    sources = [
        Source(id=source_id("feed", feed.name), kind="feed", name=feed.name, url=feed.url, tags=feed.tags)
        for feed in config.feeds
    ]
    template = config.queries_settings.url_template
    for query in config.queries:
        url = template.replace("{terms}", quote_plus(query.terms))
        sources.append(
            Source(id=source_id("query", query.name), kind="query", name=query.name, url=url,
                   tags=query.tags, options={"terms": query.terms})
        )
    return sources

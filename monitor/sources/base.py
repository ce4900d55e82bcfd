"""What every collector provides, so the collection loop treats all sources alike.

A collector is split in two on purpose: ``fetch`` does the waiting (network, in the
event loop, under a deadline) and returns raw data; ``parse`` does the CPU work and
returns plain :class:`~monitor.types.Item` objects. The loop overlaps one source's
parsing, tagging and storing with other sources' fetching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Protocol

from monitor.errors import CollectorError
from monitor.sources.http import HttpClient
from monitor.types import FetchState, Item, Source


@dataclass(frozen=True)
class Fetched:
    """Raw result of a successful fetch. ``not_modified`` means there is nothing to parse.

    ``state_changes`` are FetchState fields to store if the batch is stored
    (new validators, a permanent redirect's URL, a cursor ...).

    ``failure`` is set when the source failed part-way (a rate limit on page three):
    what was fetched before it is parsed and stored, and the source still counts as
    failed and backs off, so nothing already fetched is thrown away.
    """

    not_modified: bool = False
    status: int = 200
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    payload: Any = None
    state_changes: dict[str, Any] = field(default_factory=dict)
    failure: CollectorError | None = None


@dataclass(frozen=True)
class Parsed:
    """Items from one fetch, notes about skipped entries, and state to store with them.

    ``deleted`` lists ids the source reports as deleted or removed upstream: if they
    are stored, their content is purged in the same transaction as the batch.
    """

    items: list[Item]
    warnings: list[str] = field(default_factory=list)
    state_changes: dict[str, Any] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)


class Collector(Protocol):
    """One kind of source. Raise :class:`monitor.errors.CollectorError` for a failure
    that belongs to the source; anything else is a bug and is re-raised."""

    kinds: tuple[str, ...]

    async def fetch(self, source: Source, state: FetchState, client: HttpClient) -> Fetched: ...

    def parse(self, source: Source, fetched: Fetched, now: datetime) -> Parsed: ...

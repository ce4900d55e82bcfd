"""One collection cycle: fetch due sources concurrently, then parse, tag and store each.

Fetching runs in an asyncio event loop on a background thread (bounded overall and
per host by the HTTP client); the calling thread consumes results as they complete,
so parsing, tagging and storing one source overlaps with fetching the others, and
all database writes happen on one thread.

Failures belong to their source: a :class:`CollectorError` is logged as one line,
recorded as a failed run and backed off; the other sources go on. Anything else is
a bug and propagates after the cycle's other sources are done.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Iterable, Iterator, Mapping, TypeVar

from monitor import schedule
from monitor.cluster import ClusterIndex, signature
from monitor.config import Config
from monitor.errors import CollectorError
from monitor.sources.base import Collector, Fetched, Parsed
from monitor.sources.http import HttpClient
from monitor.store import Run, Store
from monitor.types import FetchState, Item, Source, Tags, utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often a cycle waiting on the network checks whether it was asked to stop.
STOP_POLL_SECONDS = 0.2

TagFunction = Callable[[list[Item]], Mapping[str, Tags]]


@dataclass
class SourceResult:
    """What happened to one source in one cycle (also printed by ``monitor collect``)."""

    source: Source
    status: str  # ok | not_modified | failed | skipped
    new: int = 0
    updated: int = 0
    seen: int = 0
    error: str | None = None
    http_status: int | None = None
    warnings: list[str] = field(default_factory=list)
    new_ids: list[str] = field(default_factory=list)
    next_due_at: datetime | None = None


@dataclass
class CycleReport:
    """All sources' results for one cycle."""

    cycle_id: str
    started_at: datetime
    results: list[SourceResult] = field(default_factory=list)
    ended_at: datetime | None = None
    notes: list[str] = field(default_factory=list)  # one line each about steps after the sources

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def new(self) -> int:
        return sum(r.new for r in self.results)

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.results)

    def summary(self) -> str:
        """One line: ``12 sources: 9 ok, 2 not modified, 1 failed; 31 new, 2 updated``."""
        parts = [f"{self.count('ok')} ok", f"{self.count('not_modified')} not modified",
                 f"{self.count('failed')} failed"]
        if self.count("skipped"):
            parts.append(f"{self.count('skipped')} skipped")
        return (f"{len(self.results)} sources: " + ", ".join(parts)
                + f"; {self.new} new, {self.updated} updated items")


class EventLoopThread:
    """An asyncio loop on a daemon thread, so synchronous code can run coroutines
    concurrently and consume their results as they finish."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="monitor-fetch", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def __enter__(self) -> "EventLoopThread":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel_all()
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self.loop.is_running():  # a loop stuck in blocking code is left to its daemon thread
            self.loop.close()

    def cancel_all(self, timeout: float = 5.0) -> None:
        """Cancel every task still running in the loop and wait (boundedly) for them to unwind."""

        async def _cancel() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        if self.loop.is_running():
            try:
                self.submit(_cancel()).result(timeout=timeout + 1)
            except concurrent.futures.TimeoutError:
                log.warning("fetch tasks did not stop within %g s of being cancelled", timeout)

    def submit(self, coro: Awaitable[T]) -> "concurrent.futures.Future[T]":
        return asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]

    def call(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        return self.submit(coro).result(timeout)


def select_sources(
    sources: Iterable[Source],
    states: Mapping[str, FetchState],
    now: datetime,
    *,
    scheduled: bool = False,
    force: bool = False,
) -> tuple[list[Source], list[tuple[Source, str]]]:
    """Split sources into (to poll, skipped with a reason). Pure.

    ``scheduled`` polls only sources whose due time has come (the service's mode);
    otherwise every source is polled except those backing off after failures or told
    to wait by the server. ``force`` polls everything that is not gone.
    """
    polled: list[Source] = []
    skipped: list[tuple[Source, str]] = []
    for source in sources:
        state = states.get(source.id)
        if state is not None and state.gone_at is not None:
            skipped.append((source, f"gone (HTTP 410 at {state.gone_at:%Y-%m-%d %H:%M}); fix its URL in the config"))
        elif force:
            polled.append(source)
        elif scheduled and not schedule.is_due(state, now):
            skipped.append((source, f"not due until {state.next_due_at:%Y-%m-%d %H:%M} UTC"))  # type: ignore[union-attr]
        elif schedule.in_backoff(state, now):
            assert state is not None and state.next_due_at is not None
            skipped.append((source, f"backing off after {state.failures} failure(s) until "
                                    f"{state.next_due_at:%Y-%m-%d %H:%M} UTC"))
        else:
            polled.append(source)
    return polled, skipped


class Collection:
    """Runs cycles for a set of collectors against one store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        collectors: Iterable[Collector],
        *,
        tag: TagFunction | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        client_factory: Callable[[], HttpClient] | None = None,
        deadline: float | None = None,
        unavailable: Mapping[str, str] | None = None,
    ):
        self.config = config
        self.store = store
        self.by_kind: dict[str, Collector] = {}
        for collector in collectors:
            for kind in collector.kinds:
                self.by_kind[kind] = collector
        self.tag = tag
        self.clock = clock
        self.rng = rng or random.Random()
        self.client_factory = client_factory or (lambda: HttpClient(config.http))
        # A whole-source deadline (all requests of one source), above the per-request one.
        self.deadline = deadline or max(config.http.timeout * 4, 60.0)
        # Kinds whose collector cannot run this time (e.g. no credentials): kind -> reason.
        self.unavailable = dict(unavailable or {})
        self._clusters: ClusterIndex | None = None
        self._started: set[str] = set()  # sources of the running cycle that got a request slot

    def run(
        self,
        sources: list[Source],
        *,
        scheduled: bool = False,
        force: bool = False,
        on_result: Callable[[SourceResult], None] | None = None,
        stop: threading.Event | None = None,
        cycle_deadline: float | None = None,
    ) -> CycleReport:
        """Poll ``sources`` once; returns the per-source results.

        ``cycle_deadline`` (seconds) bounds the whole cycle's waiting for the network:
        sources still fetching then are abandoned and recorded as failed (and backed
        off), so a hung server cannot hold up the next cycle of the others. When
        ``stop`` is set the cycle ends after the batch being stored; sources still
        fetching are left untouched, due as before, for the next start.
        """
        now = self.clock()
        report = CycleReport(cycle_id=uuid.uuid4().hex[:12], started_at=now)
        states = self.store.states()
        polled, skipped = select_sources(sources, states, now, scheduled=scheduled, force=force)
        for source, reason in skipped:
            result = SourceResult(source, "skipped", error=reason,
                                  next_due_at=states[source.id].next_due_at if source.id in states else None)
            report.results.append(result)
            if on_result:
                on_result(result)
        unknown = [s for s in polled if s.kind not in self.by_kind]
        for source in unknown:
            reason = self.unavailable.get(source.kind) or f"no collector for sources of kind {source.kind!r}"
            result = SourceResult(source, "skipped", error=reason,
                                  next_due_at=states[source.id].next_due_at if source.id in states else None)
            report.results.append(result)
            if on_result:
                on_result(result)
        polled = [s for s in polled if s.kind in self.by_kind]
        if polled:
            for result in self._run_polled(polled, states, report.cycle_id, stop=stop,
                                           cycle_deadline=cycle_deadline):
                report.results.append(result)
                if on_result:
                    on_result(result)
        window = timedelta(days=2 * self.config.clusters.window_days)
        self.store.prune_signatures(now - window)
        report.ended_at = self.clock()
        return report

    def _run_polled(self, polled: list[Source], states: Mapping[str, FetchState], cycle_id: str, *,
                    stop: threading.Event | None = None,
                    cycle_deadline: float | None = None) -> Iterator[SourceResult]:
        bug: BaseException | None = None
        ends_at = time.monotonic() + cycle_deadline if cycle_deadline else None
        self._started = set()
        with EventLoopThread() as runner:
            client = runner.call(_in_loop(self.client_factory))
            try:
                futures = {
                    runner.submit(self._fetch(source, states.get(source.id) or FetchState(source.id), client)): source
                    for source in polled
                }
                position = {future: index for index, future in enumerate(futures)}  # results in config order
                # Each fetch reports itself done on a queue: O(1) per result, where waiting
                # on the whole set again after every result would cost O(sources) each time.
                finished: queue.SimpleQueue[concurrent.futures.Future[Any]] = queue.SimpleQueue()
                for future in futures:
                    future.add_done_callback(finished.put)
                waiting = set(futures)
                while waiting:
                    if stop is not None and stop.is_set():
                        log.info("stopping: %d source(s) still fetching are left for the next start", len(waiting))
                        break
                    timeout = None if ends_at is None else max(0.0, ends_at - time.monotonic())
                    if stop is not None:
                        timeout = STOP_POLL_SECONDS if timeout is None else min(timeout, STOP_POLL_SECONDS)
                    done = _drain(finished, timeout)
                    waiting -= done
                    for future in sorted(done, key=position.__getitem__):
                        if stop is not None and stop.is_set():  # fetched but not stored: next start
                            waiting.add(future)
                            continue
                        source = futures[future]
                        state = states.get(source.id) or FetchState(source.id)
                        started, outcome = future.result()
                        try:
                            yield self._process(source, state, started, outcome, cycle_id)
                        except Exception as error:  # a bug: finish the other sources, then raise
                            log.exception("%s: unexpected error while processing", source.name)
                            bug = bug or error
                            # The source still fails and backs off, so one bad document
                            # cannot make every later cycle fail the same way.
                            failure = CollectorError(f"internal error: {type(error).__name__}: {error}")
                            yield self._fail(source, state, started, self.clock(), failure, cycle_id)
                    if waiting and ends_at is not None and time.monotonic() >= ends_at and not (stop and stop.is_set()):
                        runner.cancel_all()
                        for future in sorted(waiting, key=position.__getitem__):
                            source = futures[future]
                            state = states.get(source.id) or FetchState(source.id)
                            if source.id not in self._started:  # never got a slot: still due, no failure
                                yield self._not_polled(source, state, cycle_id, cycle_deadline)  # type: ignore[arg-type]
                                continue
                            abandoned = CollectorError(f"still fetching when the cycle's {cycle_deadline:g} s "
                                                       "deadline passed; abandoned")
                            yield self._fail(source, state, self.clock(), self.clock(), abandoned, cycle_id)
                        waiting = set()
            finally:
                runner.cancel_all()
                runner.call(client.aclose(), timeout=10)
        if bug is not None:
            raise bug

    async def _fetch(self, source: Source, state: FetchState, client: HttpClient) -> tuple[datetime, Any]:
        """Fetch one source; never raises (the outcome is a Fetched or an exception)."""
        collector = self.by_kind[source.kind]
        # The deadline starts once the source holds its request slot: queueing behind
        # other sources is not the source's fault.
        async with client.slot(state.url or source.url):
            self._started.add(source.id)
            started = self.clock()
            try:
                async with asyncio.timeout(self.deadline):
                    return started, await collector.fetch(source, state, client)
            except TimeoutError:
                return started, CollectorError(f"source took longer than {self.deadline:g} s in all")
            except Exception as error:  # CollectorError, or a bug reported by _process
                return started, error

    def _process(self, source: Source, state: FetchState, started: datetime, outcome: Any,
                 cycle_id: str) -> SourceResult:
        now = self.clock()
        if isinstance(outcome, CollectorError):
            return self._fail(source, state, started, now, outcome, cycle_id)
        if isinstance(outcome, BaseException):
            raise outcome
        fetched: Fetched = outcome
        if fetched.not_modified:
            new_state = self._after_success(source, state, now, fetched, fetched.state_changes)
            run = Run(cycle_id, source.id, started, now, "not_modified", fetched.status)
            self.store.record_run(new_state, run)
            log.info("%s: not modified", source.name)
            return SourceResult(source, "not_modified", http_status=fetched.status, next_due_at=new_state.next_due_at)
        try:
            parsed: Parsed = self.by_kind[source.kind].parse(source, fetched, now)
        except CollectorError as error:
            return self._fail(source, state, started, now, error, cycle_id, status=fetched.status)
        for warning in parsed.warnings:
            log.warning("%s: %s", source.name, warning)
        changed = self.store.changed_items(source, parsed.items) if parsed.items else []
        tags: Mapping[str, Tags] = self.tag(changed) if self.tag is not None and changed else {}
        signatures = {item.id: signature(item.title, item.text) for item in changed}
        changes = {**fetched.state_changes, **parsed.state_changes}
        failure = fetched.failure
        if failure is None:
            new_state = self._after_success(source, state, now, fetched, changes)
            run = Run(cycle_id, source.id, started, now, "ok", fetched.status)
        else:  # failed part-way: store what came before the failure, and back off
            new_state = dataclasses.replace(
                self._after_failure(source, state, now, error=str(failure), status=failure.status,
                                    retry_after=failure.retry_after),
                **_state_fields(changes))
            run = Run(cycle_id, source.id, started, now, "failed", failure.status, error=str(failure))
        try:
            counts = self.store.save_batch(source, parsed.items, new_state, run, now, tags=tags,
                                           signatures=signatures, deleted=parsed.deleted,
                                           cluster_index=self._cluster_index(now) if changed else None)
        except Exception as error:
            from monitor.errors import StorageError

            stored = StorageError(f"could not store {len(parsed.items)} items; nothing of this batch was kept")
            stored.__cause__ = error
            log.error("%s: %s", source.name, stored)
            self.store.record_failure(
                self._after_failure(source, state, now, error=str(stored)),
                Run(cycle_id, source.id, started, now, "failed", fetched.status, error=str(stored)),
            )
            return SourceResult(source, "failed", error=str(stored), http_status=fetched.status)
        if failure is not None:
            message = (f"{failure}; kept {len(counts.new)} new and {len(counts.updated)} updated items"
                       " fetched before it")
            log.error("%s: %s (failure %d; next try %s UTC)", source.name, message, new_state.failures,
                      f"{new_state.next_due_at:%Y-%m-%d %H:%M}" if new_state.next_due_at else "?")
            return SourceResult(source, "failed", new=len(counts.new), updated=len(counts.updated),
                                seen=counts.seen, error=message, http_status=failure.status,
                                warnings=parsed.warnings, new_ids=counts.new, next_due_at=new_state.next_due_at)
        log.info("%s: %d new, %d updated, %d seen", source.name, len(counts.new), len(counts.updated), counts.seen)
        return SourceResult(source, "ok", new=len(counts.new), updated=len(counts.updated), seen=counts.seen,
                            http_status=fetched.status, warnings=parsed.warnings, new_ids=counts.new,
                            next_due_at=new_state.next_due_at)

    def _after_success(self, source: Source, state: FetchState, now: datetime, fetched: Fetched,
                       changes: Mapping[str, Any]) -> FetchState:
        """The source's state after a good poll: due again after its own interval, if it has one."""
        return schedule.after_success(state, now, self.config.schedule, headers=fetched.headers,
                                      status=fetched.status, rng=self.rng, interval_minutes=source.interval_minutes,
                                      **_state_fields(changes))

    def _after_failure(self, source: Source, state: FetchState, now: datetime, **failure: Any) -> FetchState:
        """The source's state after a failed poll: backed off from its own interval, if it has one."""
        return schedule.after_failure(state, now, self.config.schedule, rng=self.rng,
                                      interval_minutes=source.interval_minutes, **failure)

    def _cluster_index(self, now: datetime) -> ClusterIndex:
        """Loaded on the first new item of a cycle, then kept up to date by the store."""
        if self._clusters is None:
            self._clusters = self.store.load_cluster_index(self.config.clusters, now)
        return self._clusters

    def _not_polled(self, source: Source, state: FetchState, cycle_id: str, cycle_deadline: float) -> SourceResult:
        """A source the cycle's deadline reached before it could start: recorded, still due."""
        now = self.clock()
        reason = f"not polled: the cycle's {cycle_deadline:g} s deadline passed before a request slot was free"
        self.store.record_run(state, Run(cycle_id, source.id, now, now, "skipped", None, error=reason))
        log.warning("%s: %s; still due", source.name, reason)
        return SourceResult(source, "skipped", error=reason, next_due_at=state.next_due_at)

    def _fail(self, source: Source, state: FetchState, started: datetime, now: datetime, error: CollectorError,
              cycle_id: str, status: int | None = None) -> SourceResult:
        status = error.status if error.status is not None else status
        message = str(error)
        new_state = self._after_failure(source, state, now, error=message, status=status,
                                        retry_after=error.retry_after)
        self.store.record_failure(new_state, Run(cycle_id, source.id, started, now, "failed", status, error=message))
        if new_state.gone_at is not None:
            log.error("%s: %s; no longer polled until its URL changes", source.name, message)
        else:
            log.error("%s: %s (failure %d; next try %s UTC)", source.name, message, new_state.failures,
                      f"{new_state.next_due_at:%Y-%m-%d %H:%M}" if new_state.next_due_at else "?")
        return SourceResult(source, "failed", error=message, http_status=status, next_due_at=new_state.next_due_at)


_STATE_FIELDS = {f.name for f in dataclasses.fields(FetchState)} - {"source_id"}


def _state_fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - _STATE_FIELDS
    if unknown:
        raise ValueError(f"unknown fetch-state fields from a collector: {sorted(unknown)}")
    return dict(changes)


def _drain(finished: "queue.SimpleQueue[T]", timeout: float | None) -> set[T]:
    """Wait up to ``timeout`` for one finished fetch, then take all that are ready."""
    try:
        done = {finished.get(timeout=timeout)}
    except queue.Empty:
        return set()
    while True:
        try:
            done.add(finished.get_nowait())
        except queue.Empty:
            return done


async def _in_loop(factory: Callable[[], T]) -> T:
    """Build an object inside the event loop (aiohttp sessions belong to the loop that uses them)."""
    return factory()

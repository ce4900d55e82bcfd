"""Wires configuration, store, collectors and tagger together, once (like reader's
``make_reader``). The CLI and the service call these functions and nothing lower.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, AbstractSet, Any, Callable, Mapping

from monitor.collect import Collection, CycleReport, SourceResult, TagFunction
from monitor.config import Config, read_secret
from monitor.errors import CollectorError, MonitorError, StorageError
from monitor.sources import sources_from_config
from monitor.sources.base import Collector
from monitor.store import Recheck, Store, open_store
from monitor.types import Item, Source, Tags, from_iso, utcnow

if TYPE_CHECKING:
    from monitor.alerts.deliver import DeliveryReport
    from monitor.alerts.engine import AlertReport, DryRun
    from monitor.digest.delivery import DigestResult, SendResult
    from monitor.store.alerts import AlertRecord
    from monitor.sources.bluesky import BlueskyCredentials, BlueskySession
    from monitor.sources.reddit import RedditClient, RedditCollector, RedditCredentials
    from monitor.store.maintenance import MaintenanceRun
    from monitor.tagging import Tagger

log = logging.getLogger(__name__)

RETAG_ALL_KEY = "retag_all_done_through"
REDDIT_KINDS = ("reddit_subreddit", "reddit_search")


@dataclass
class RecheckReport:
    """What one re-check of recent Reddit posts found (``monitor recheck``)."""

    since: datetime
    checked: int = 0
    purged: int = 0
    authors_cleared: int = 0
    error: str | None = None

    def summary(self) -> str:
        line = (f"checked {self.checked} Reddit post(s) published since {self.since:%Y-%m-%d %H:%M} UTC:"
                f" {self.purged} deleted or removed upstream and purged,"
                f" {self.authors_cleared} author(s) deleted upstream and cleared")
        if self.error:
            line += f"; stopped early: {self.error}"
        return line


@dataclass(frozen=True)
class RetagResult:
    """What ``Monitor.retag`` did: items tagged, and the tagger version they now carry."""

    tagged: int
    version: str


class Monitor:
    """The application: one config, one store, the configured sources.

    ``secret`` reads a secret by name (default: systemd credential, then environment);
    the demo passes its own so that its dummy credentials never touch the environment.
    ``tag`` tags collected items and Reddit comments; by default the configured
    spaCy tagger (:meth:`tag_items`), loaded on first use.
    """

    def __init__(self, config: Config, store: Store, *, clock: Callable[[], datetime] = utcnow,
                 secret: Callable[[str], str | None] = read_secret, tag: TagFunction | None = None):
        self.config = config
        self.store = store
        self.clock = clock
        self.secret = secret
        self.tag: TagFunction = tag if tag is not None else self.tag_items
        self.sources: list[Source] = sources_from_config(config)
        store.sync_sources(self.sources, clock())
        self._tagger: Tagger | None = None
        self._hash_key: bytes | None = None
        self._bluesky_session: BlueskySession | None = None  # kept across cycles: one login, renewed
        self._reddit_client: RedditClient | None = None  # kept across cycles: one praw client, one token
        self._warned: set[str] = set()  # missing credentials already warned about

    def close(self) -> None:
        if self._reddit_client is not None:
            self._reddit_client.close()
            self._reddit_client = None
        self.store.close()

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tagger(self) -> "Tagger":
        """The configured tagger, loaded (spaCy and all) on first use."""
        if self._tagger is None:
            from monitor.tagging import load_tagger

            settings = self.config.tagger
            self._tagger = load_tagger(settings.model or None, settings.threshold)
        return self._tagger

    def tag_items(self, items: list[Item]) -> Mapping[str, Tags]:
        """Tags for ``items`` by item id, in batches through the spaCy pipeline."""
        pairs = ((item.title, item.text) for item in items)
        tagged = self.tagger.tag_many(pairs, batch_size=self.config.tagger.batch_size)
        return {item.id: tags for item, tags in zip(items, tagged)}

    def retag(self, *, all_items: bool = False, batch: int = 500,
              on_progress: Callable[[int, int], None] | None = None) -> RetagResult:
        """Re-tag items whose tags are missing or come from an older tagger version.

        Works in batches, each stored in its own transaction, so an interrupted run
        keeps what it finished and the next run continues with the rest. With
        ``all_items`` every item is re-tagged, in id order; the last id done is kept
        in the database so an interrupted ``--all`` run resumes instead of starting over.
        ``on_progress(done, total)`` is called after each batch.
        """
        store = self.store
        version = self.tagger.version
        # --all remembers the last item it finished, in the same transaction as its tags.
        after = (store.get_setting(RETAG_ALL_KEY) or "") if all_items else ""
        total = store.count_stale(version, include_all=all_items, after=after)
        done = 0
        while True:
            rows = store.stale_items(version, include_all=all_items, after=after, limit=batch)
            if not rows:
                break
            tagged = self.tagger.tag_many(((title, text) for _id, title, text in rows),
                                          batch_size=self.config.tagger.batch_size)
            after = rows[-1][0]
            store.save_tags(zip((row[0] for row in rows), tagged), self.clock(),
                            progress=(RETAG_ALL_KEY, after) if all_items else None)
            done += len(rows)
            if on_progress:
                on_progress(done, total)
        if all_items:
            store.set_setting(RETAG_ALL_KEY, None, self.clock())
        return RetagResult(done, version)

    # collectors
    def collectors(self, sources: list[Source] | None = None) -> list[Collector]:
        """The collectors that can run now, one per kind of source configured (of
        ``sources``, by default all). Reddit's and Bluesky's need credentials: without
        them they are left out (see :meth:`unavailable_kinds`)."""
        kinds = {s.kind for s in (self.sources if sources is None else sources)}
        collectors, _unavailable = make_collectors(self.config, kinds, self.secret, hash_key=self.hash_key,
                                                   bluesky_session=self._bluesky_session_for,
                                                   reddit_client=self._reddit_client_for, clock=self.clock)
        return collectors

    def unavailable_kinds(self) -> dict[str, str]:
        """Source kinds that cannot be collected now, with the reason (one line)."""
        kinds = {s.kind for s in self.sources}
        unavailable: dict[str, str] = {}
        if kinds & set(REDDIT_KINDS):
            from monitor.sources.reddit import load_credentials

            _credentials, problem = load_credentials(self.config.reddit, self.secret)
            if problem:
                unavailable.update({kind: problem for kind in REDDIT_KINDS})
        if "bluesky" in kinds:
            from monitor.sources import bluesky

            _found, problem = bluesky.load_credentials(self.config.bluesky, self.secret)
            if problem:
                unavailable["bluesky"] = problem
        return unavailable

    def hash_key(self) -> bytes:
        """The author-hash key (``MONITOR_HASH_KEY``, else the key file next to the database)."""
        if self._hash_key is None:
            from monitor.privacy import load_hash_key

            self._hash_key = load_hash_key(self.store.path, secret=self.secret)
        return self._hash_key

    def reddit_collector(self) -> tuple["RedditCollector | None", str | None]:
        """(collector, None), or (None, why not) when credentials are missing."""
        collectors, unavailable = make_collectors(self.config, set(REDDIT_KINDS), self.secret, hash_key=self.hash_key,
                                                  reddit_client=self._reddit_client_for)
        from monitor.sources.reddit import RedditCollector

        found = next((c for c in collectors if isinstance(c, RedditCollector)), None)
        return found, unavailable.get(REDDIT_KINDS[0])

    def _reddit_client_for(self, credentials: "RedditCredentials") -> "RedditClient":
        """This Monitor's praw client, kept across cycles, comments and re-checks: one
        access token and one rate-limit budget, as Reddit counts them."""
        from monitor.sources.reddit import RedditClient

        if self._reddit_client is None or self._reddit_client.credentials != credentials:
            if self._reddit_client is not None:
                self._reddit_client.close()
            self._reddit_client = RedditClient(self.config.reddit, credentials, timeout=self.config.http.timeout)
        return self._reddit_client

    def _bluesky_session_for(self, credentials: "BlueskyCredentials") -> "BlueskySession":
        """This Monitor's Bluesky login, kept across cycles (in memory only): one login, renewed."""
        from monitor.sources.bluesky import BlueskySession

        if self._bluesky_session is None or self._bluesky_session.credentials != credentials:
            self._bluesky_session = BlueskySession(self.config.bluesky, credentials)
        return self._bluesky_session

    def find_sources(self, names: list[str]) -> list[Source]:
        """Sources by name or id (case-insensitive); unknown names are an error."""
        wanted = {name.casefold(): name for name in names}
        found = [s for s in self.sources if s.name.casefold() in wanted or s.id.casefold() in wanted]
        matched = {s.name.casefold() for s in found} | {s.id.casefold() for s in found}
        missing = [original for key, original in wanted.items() if key not in matched]
        if missing:
            known = ", ".join(s.name for s in self.sources) or "none configured"
            raise MonitorError(f"no source named {', '.join(map(repr, missing))} (sources: {known})")
        return found

    def collect(
        self,
        names: list[str] | None = None,
        *,
        scheduled: bool = False,
        force: bool = False,
        on_result: Callable[[SourceResult], None] | None = None,
        stop: threading.Event | None = None,
        cycle_deadline: float | None = None,
        media: AbstractSet[str] | None = None,
    ) -> CycleReport:
        """Run one collection cycle over all sources, or those named, or those of ``media``.

        The service passes ``scheduled=True`` (only sources whose due time has come), a
        ``cycle_deadline`` in seconds and a ``stop`` event (see :meth:`Collection.run`),
        and runs Reddit (``media={"reddit"}``) and everything else as separate jobs.
        Sources whose collector cannot run (Reddit without credentials) are reported
        as skipped, with one warning for all of them; the others are collected. With
        ``[reddit] comments`` on, the top-level comments of relevant new posts are
        fetched afterwards (see :meth:`collect_comments`), noted in ``report.notes``,
        within what is left of ``cycle_deadline``: the job's network work has one bound.
        With ``[alerts]`` configured, :meth:`run_alerts` runs last whenever a source was
        polled, so an item that matches a rule is alerted in the cycle that stored it
        (one line in ``notes``); a service tick that polls nothing skips it.
        """
        sources = self.find_sources(names) if names else self.sources
        if media is not None:
            sources = [s for s in sources if s.media in media]
        unavailable = self.unavailable_kinds()
        for reason in dict.fromkeys(unavailable.values()):  # one warning per missing credential ...
            skipped = [s for s in sources if unavailable.get(s.kind) == reason]
            if skipped and reason not in self._warned:  # ... once in the life of this Monitor (the service's)
                self._warned.add(reason)
                what = "Reddit" if skipped[0].kind in REDDIT_KINDS else skipped[0].kind.capitalize()
                log.warning("%s; skipping %d %s source(s), collecting the rest", reason, len(skipped), what)
        collectors = self.collectors(sources)
        ends_at = time.monotonic() + cycle_deadline if cycle_deadline else None
        try:
            collection = Collection(self.config, self.store, collectors, clock=self.clock, tag=self.tag,
                                    unavailable=unavailable)
            report = collection.run(sources, scheduled=scheduled, force=force, on_result=on_result,
                                    stop=stop, cycle_deadline=cycle_deadline)
            self.store.refresh_statistics()  # keeps the views' and digest's query plans right as data grows
            from monitor.sources.reddit import RedditCollector

            reddit = next((c for c in collectors if isinstance(c, RedditCollector)), None)
            if self.config.reddit.comments and reddit is not None and not names and \
                    (media is None or "reddit" in media):
                note: str | None
                left = None if ends_at is None else ends_at - time.monotonic()
                if reddit.abandoned:  # praw is still busy with it: comments would only wait for it
                    note = "Reddit comments: not fetched this cycle (a Reddit request was abandoned at its deadline)"
                    log.warning("%s", note)
                elif left is not None and left <= 0:
                    note = "Reddit comments: not fetched this cycle (the cycle's deadline had passed)"
                    log.warning("%s", note)
                else:
                    note = self.collect_comments(reddit, stop=stop, deadline=left)
                if note:
                    report.notes.append(note)
            polled = any(r.status in ("ok", "not_modified", "failed") for r in report.results)
            if self.config.alerts is not None and polled and not (stop is not None and stop.is_set()):
                report.notes.append(self._alerts_after_cycle())
            return report
        finally:
            for collector in collectors:
                close = getattr(collector, "close", None)
                if close is not None:
                    close()

    # alerts
    def run_alerts(self, now: datetime | None = None, *, send: bool = True) -> "AlertReport":
        """Check the alert rules against newly stored items, spikes and source health,
        record new alerts and (with ``send``) deliver every alert that is due, exactly
        once (see :mod:`monitor.alerts`). ``Monitor.collect`` calls it after each cycle;
        the service's ``alerts`` job calls :meth:`deliver_alerts` between cycles.
        Raises AlertError without ``[alerts]``."""
        from monitor.alerts.engine import run_alerts

        report = run_alerts(self.store, self.config, now or self.clock(), secret=self.secret, clock=self.clock,
                            send=send, unavailable=self.unavailable_kinds())
        log.info("%s", report.summary())
        return report

    def deliver_alerts(self, now: datetime | None = None) -> "DeliveryReport":
        """Deliver the alerts that are due (held ones once quiet hours are over, failed
        ones again), without checking for new ones: the service's ``alerts`` job, so a
        held or failed alert does not wait for a cycle that polls a source. Raises
        AlertError without ``[alerts]``."""
        from monitor.alerts.deliver import deliver
        from monitor.alerts.engine import configured

        configured(self.config)
        return deliver(self.store, self.config, now or self.clock(), secret=self.secret, clock=self.clock)

    def _alerts_after_cycle(self) -> str:
        """Run alerts after a cycle; a failure is one line, never the cycle's end (its items are stored)."""
        import sqlite3

        try:
            return self.run_alerts().summary()
        except (MonitorError, sqlite3.Error) as error:  # e.g. the database locked too long: next cycle
            log.error("alerts: %s", error)
            return f"Alerts: not checked: {error}"

    def alerts(self, since: datetime | None = None, limit: int = 100) -> list["AlertRecord"]:
        """Recorded alerts, newest first (``monitor alerts``)."""
        from monitor.store.alerts import listing

        return listing(self.store.db, since, limit)

    def test_alert_rule(self, name: str, days: float = 7.0) -> "DryRun":
        """What rule ``name`` would have sent over the last ``days`` days (``monitor alerts test``)."""
        from monitor.alerts.engine import dry_run

        return dry_run(self.store, self.config, name, days, self.clock())

    # Reddit comments
    def collect_comments(self, collector: "RedditCollector | None" = None, *, max_posts: int = 25,
                         stop: threading.Event | None = None, deadline: float | None = None) -> str | None:
        """Fetch the top-level comments (``[reddit] comments_per_post`` of them, best
        first) of relevant Reddit posts younger than ``recheck_days`` whose comments were
        never fetched, at most ``max_posts`` posts per call, newest first. Comments are
        items of their post's source (id ``t1_...``, ``extra.parent`` = the post), with
        authors hashed like posts. Relevance is the tagger's: nothing is fetched for
        untagged posts. Returns one line for the report, or None if nothing was due.
        A failure (rate limit ...) or ``stop`` being set ends this call; the rest are
        fetched next time. ``deadline`` (seconds) bounds the whole call's waiting for
        Reddit: praw runs on a daemon thread, abandoned when it passes (praw's own
        timeout is per read, so a server trickling its answer would hold it for ever).
        """
        from monitor.sources.blocking import Abandoned, call_with_deadline
        from monitor.sources.reddit import ParentPost, parse_comments

        settings = self.config.reddit
        now = self.clock()
        due = self.store.comment_candidates(now - timedelta(days=settings.recheck_days), max_posts)
        if not due:
            return None
        own = collector is None
        if collector is None:
            collector, problem = self.reddit_collector()
            if collector is None:
                log.warning("%s; Reddit comments not fetched", problem)
                return None
        by_id = {s.id: s for s in self.sources}
        posts = stored = 0
        error: str | None = None
        ends_at = time.monotonic() + deadline if deadline is not None else None
        try:
            for post_id, source_id, title, subreddit, url in due:
                if stop is not None and stop.is_set():
                    break
                source = by_id.get(source_id)
                if source is None:  # its source left the config: leave it be
                    continue
                try:
                    records = call_with_deadline(collector.top_comments, post_id, settings.comments_per_post,
                                                 ends_at=ends_at, stop=stop, name="monitor-reddit-comments")
                except Abandoned as gone:
                    if gone.stopped:
                        break
                    error = (f"no answer from Reddit within the {deadline:g} s deadline; abandoned the request"
                             " for the comments of " + post_id)
                    log.error("Reddit comments: %s; the rest wait for the next cycle", error)
                    break
                except CollectorError as failure:
                    error = str(failure)
                    log.error("Reddit comments of %s: %s; the rest wait for the next cycle", post_id, failure)
                    break
                items = parse_comments(records, ParentPost(post_id, title, subreddit, url), source, collector.options,
                                       settings.comments_per_post)
                changed = self.store.changed_items(source, items) if items else []
                tags = self.tag(changed) if self.tag is not None and changed else {}
                counts = self.store.save_comments(source, post_id, items, self.clock(), tags=tags)
                posts += 1
                stored += len(counts.new)
        finally:
            if own:
                collector.close()
        line = f"Reddit comments: {stored} new from {posts} relevant post(s)"
        return line + (f"; stopped: {error}" if error else "")

    # upstream deletions
    def recheck(self, *, on_batch: Callable[[RecheckReport], None] | None = None,
                stop: threading.Event | None = None, deadline: float | None = None) -> RecheckReport:
        """Ask Reddit about every stored post younger than ``reddit.recheck_days`` (100
        per request) and purge those deleted or removed upstream, keeping only their id,
        source links, times and ``deleted_at``; clear the author hash of posts whose
        author deleted their account. Records the run in ``rechecks``.

        A failure part-way (rate limit, network) stops the re-check with what was done
        so far kept and reported in ``error``; so does ``stop`` being set (the service
        stopping), and ``deadline`` (seconds for all of Reddit's answers) passing: praw
        runs on a daemon thread, abandoned then, because its timeout is per read and a
        server trickling its answer would otherwise hold the service's worker for ever.
        Raises MonitorError when Reddit is not configured or its credentials are missing.
        """
        from monitor.sources.blocking import Abandoned, call_with_deadline
        from monitor.sources.reddit import INFO_BATCH, author_gone, gone_reason

        if not self.config.reddit.user_agent.strip():
            raise MonitorError("Reddit is not configured: set [reddit] user_agent in the config file")
        started = self.clock()
        report = RecheckReport(since=started - timedelta(days=self.config.reddit.recheck_days))
        ids = self.store.recent_ids("reddit", report.since)  # posts (t3_) and comments (t1_)
        collector: RedditCollector | None = None
        ends_at = time.monotonic() + deadline if deadline is not None else None
        if ids:
            collector, problem = self.reddit_collector()
            if collector is None:
                raise MonitorError(f"{problem}; cannot re-check Reddit posts")
        try:
            for start in range(0, len(ids), INFO_BATCH):
                if stop is not None and stop.is_set():
                    report.error = "interrupted: the service is stopping"
                    break
                batch = ids[start:start + INFO_BATCH]
                assert collector is not None
                try:
                    found = call_with_deadline(collector.lookup, batch, ends_at=ends_at, stop=stop,
                                               name="monitor-reddit-recheck")
                except Abandoned as gone:
                    report.error = str(gone) if gone.stopped else (
                        f"no answer from Reddit within the re-check's {deadline:g} s deadline; abandoned the"
                        " request, the rest waits for the next re-check")
                    break
                except CollectorError as error:
                    report.error = str(error)
                    break
                if not found:
                    # Reddit answers /api/info for deleted posts too; an empty answer to a
                    # whole batch means something else is wrong: purge nothing on it.
                    report.error = f"Reddit returned none of the {len(batch)} posts asked about; nothing purged"
                    break
                purge = [fullname for fullname in batch if fullname not in found or gone_reason(found[fullname])]
                authors = [fullname for fullname in batch
                           if fullname in found and not gone_reason(found[fullname]) and author_gone(found[fullname])]
                purged, cleared = self.store.apply_deletions(purge, authors, self.clock())
                report.checked += len(batch)
                report.purged += purged
                report.authors_cleared += cleared
                if on_batch:
                    on_batch(report)
        finally:
            if collector is not None:
                collector.close()
            self.store.record_recheck(Recheck("reddit", started, self.clock(), report.since, report.checked,
                                              report.purged, report.authors_cleared, report.error))
        if report.error:
            log.error("Reddit re-check stopped early: %s", report.error)
        log.info("Reddit re-check: %s", report.summary())
        return report

    # --- looking after the database -------------------------------------------------------

    @property
    def backup_dir(self) -> Path:
        """``[service] backup_dir``, by default a ``backups`` folder next to the database."""
        configured = self.config.service.backup_dir
        return Path(configured) if configured else self.store.path.parent / "backups"

    def backup(self, target: str | Path | None = None) -> tuple[Path, int]:
        """Back up the live database (consistent, compacted) to ``target`` or a dated file in
        :attr:`backup_dir`; returns the path and its size. Refuses when the disk is too full."""
        from monitor.store import maintenance

        path = Path(target) if target else self.backup_dir / maintenance.backup_name(self.clock())
        if path.exists():
            raise MonitorError(f"{path} already exists; choose another name")
        existing = path.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        needed = database_bytes(self.store) * 1.1
        free = shutil.disk_usage(existing).free
        if free < needed:
            raise StorageError(f"not enough free disk for a backup in {path.parent}: {free / 1e6:.0f} MB free, "
                               f"about {needed / 1e6:.0f} MB needed; free some space or set [service] backup_dir")
        return path, maintenance.backup(self.store.db, path)

    def maintenance_due(self) -> bool:
        """True when the daily maintenance has not run since its latest scheduled time."""
        from monitor.schedule import daily_due
        from monitor.store.maintenance import last_maintenance

        last = last_maintenance(self.store.db)
        cfg = self.config.service
        return daily_due(self.clock(), from_iso(last["started_at"]) if last else None, cfg.maintenance_time,
                         cfg.timezone)

    def maintain(self, *, stop: threading.Event | None = None) -> "MaintenanceRun":
        """The daily maintenance: integrity check, retention of old Reddit content and run
        records, ``PRAGMA optimize``, then a backup (rotating old ones). Recorded in
        ``maintenance_runs``; a failing step is logged and the others still run, except
        that a database failing its integrity check is left alone (not pruned, and not
        backed up over good backups). Interrupted by ``stop``, it is not recorded, so it
        runs again at the next start.
        """
        from monitor.store import maintenance as m

        cfg = self.config.service
        db = self.store.db
        run = m.MaintenanceRun(started_at=self.clock())
        errors: list[str] = []

        def stopped() -> bool:
            return stop is not None and stop.is_set()

        try:
            problems = m.integrity_problems(db)
            run.integrity = "ok" if not problems else "; ".join(problems)
        except sqlite3.Error as error:
            problems = [f"integrity check could not run: {error}"]
            run.integrity = problems[0]
        if problems:
            errors.append(f"integrity check failed ({run.integrity}); stop the service and restore the newest "
                          f"backup from {self.backup_dir}")
        try:
            now = self.clock()
            if cfg.reddit_retention_days and not stopped() and not problems:
                run.pruned_reddit = m.prune_items(db, "reddit", now - timedelta(days=cfg.reddit_retention_days),
                                                  now=now)
            if cfg.runs_retention_days and not stopped() and not problems:
                run.pruned_runs = m.prune_runs(db, now - timedelta(days=cfg.runs_retention_days))
        except sqlite3.Error as error:
            errors.append(f"retention failed: {error}")
        if not stopped() and not problems:
            try:
                m.optimize(db)
            except sqlite3.Error as error:
                errors.append(f"PRAGMA optimize failed: {error}")
        if cfg.backup_keep and not problems and not stopped():
            try:
                path, size = self.backup()
                run.backup_path, run.backup_bytes = str(path), size
                m.rotate_backups(path.parent, cfg.backup_keep)
            except MonitorError as error:
                errors.append(str(error))
        if stopped():  # not recorded, so it runs again, whole, at the next start
            log.info("maintenance: interrupted by the stop; it runs again at the next start")
            return run
        run.ended_at = self.clock()
        run.status = "failed" if errors else "ok"
        run.error = "; ".join(errors) or None
        try:
            m.record_maintenance(db, run)
        except sqlite3.Error as failure:  # a damaged file may refuse even this
            errors.append(f"cannot record this maintenance run: {failure}")
        for problem in errors:
            log.error("maintenance: %s", problem)
        log.info("maintenance: %s", maintenance_summary(run))
        return run

    # --- the daily digest ---------------------------------------------------------------

    def build_digest(self, day: date | None = None, out_dir: Path | None = None) -> "DigestResult":
        """Build, archive and record the digest for ``day`` (None: the latest complete day
        per ``[digest] time``/``timezone``). Building a date again re-renders its archive;
        ``out_dir`` also gets a copy of the files. Source health names why sources that
        were never collected cannot be (``unavailable_kinds``)."""
        from monitor.digest.delivery import make_digest

        return make_digest(self.store, self.config, day, self.clock(), out_dir, self.unavailable_kinds())

    def send_digest(self, day: date | None = None, *, force: bool = False,
                    built: "DigestResult | None" = None) -> "SendResult":
        """Build and email the digest for ``day`` (None: the latest complete day), at most
        once per date unless ``force``; crash-safe (see ``monitor.digest.delivery``).
        ``built``: that day's digest, just built by ``build_digest``, to send as it is."""
        from monitor.digest.delivery import send_digest

        return send_digest(self.store, self.config, day, self.clock(), force=force, built=built,
                           unavailable=None if built is not None else self.unavailable_kinds())

    def last_sent_digest(self) -> date | None:
        """The newest date whose digest was sent (for ``monitor.digest.due_digest_date``)."""
        from monitor.digest.delivery import last_sent

        return last_sent(self.store)

    def due_digest(self, grace_hours: float | None = None) -> date | None:
        """The date whose digest should be sent now, if any (catch-up after downtime
        within ``grace_hours``, default ``[digest] catch_up_hours``)."""
        from monitor.digest import due_digest_date

        hours = self.config.digest.catch_up_hours if grace_hours is None else grace_hours
        return due_digest_date(self.clock(), self.config.digest, self.last_sent_digest(), hours)

def make_collectors(
    config: Config,
    kinds: set[str],
    secret: Callable[[str], str | None] = read_secret,
    *,
    hash_key: Callable[[], bytes] | None = None,
    bluesky_session: Callable[["BlueskyCredentials"], "BlueskySession"] | None = None,
    reddit_client: Callable[["RedditCredentials"], "RedditClient"] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> tuple[list[Collector], dict[str, str]]:
    """The collectors for sources of ``kinds``, and the kinds that cannot be collected
    (credentials missing), with why.

    ``hash_key`` gives the author-hash key, read only when a collector hashes names;
    without it (a test fetch that stores nothing) names are not hashed and no key is
    created. ``bluesky_session`` gives the login session to use and ``reddit_client``
    the praw client (default: a new one, closed with its collector).
    """
    import dataclasses

    def settings_for(section: Any) -> Any:
        return section if hash_key is not None else dataclasses.replace(section, hash_authors=False)

    def key_for(section: Any) -> bytes:
        return hash_key() if hash_key is not None and section.hash_authors else b""

    from monitor.sources.feeds import FeedCollector

    collectors: list[Collector] = [FeedCollector()]
    unavailable: dict[str, str] = {}
    if kinds & set(REDDIT_KINDS):
        from monitor.sources.reddit import RedditCollector, load_credentials

        credentials, problem = load_credentials(config.reddit, secret)
        if credentials is None:
            unavailable.update({kind: problem or "Reddit credentials missing" for kind in REDDIT_KINDS})
        else:
            settings = settings_for(config.reddit)
            collectors.append(RedditCollector(settings, credentials, hash_key=key_for(settings),
                                              timeout=config.http.timeout,
                                              client=reddit_client(credentials) if reddit_client else None))
    if "hansard" in kinds:
        from monitor.sources.hansard import HansardCollector

        collectors.append(HansardCollector(config.hansard, clock=clock))
    if "mastodon" in kinds:
        from monitor.sources.mastodon import MastodonCollector

        settings = settings_for(config.mastodon)
        collectors.append(MastodonCollector(settings, hash_key=key_for(settings)))
    if "bluesky" in kinds:
        from monitor.sources import bluesky

        found, problem = bluesky.load_credentials(config.bluesky, secret)
        if found is None:
            unavailable["bluesky"] = problem or "Bluesky credentials missing"
        else:
            settings = settings_for(config.bluesky)
            session = bluesky_session(found) if bluesky_session else bluesky.BlueskySession(settings, found)
            collectors.append(bluesky.BlueskyCollector(settings, session, hash_key=key_for(settings)))
    return collectors, unavailable


def probe_collectors(config: Config, secret: Callable[[str], str | None] = read_secret
                     ) -> tuple[list[Collector], dict[str, str]]:
    """Collectors for a test fetch that stores nothing (``monitor doctor --network``), so
    without an author-hash key; and the source kinds that cannot be fetched, with why."""
    from monitor.sources import sources_from_config

    return make_collectors(config, {s.kind for s in sources_from_config(config)}, secret)


def database_bytes(store: Store) -> int:
    """Size of the database's content (pages in use), which is about what a backup needs."""
    page_count = store.db.execute("PRAGMA page_count").fetchone()[0]
    page_size = store.db.execute("PRAGMA page_size").fetchone()[0]
    return int(page_count * page_size)


def maintenance_summary(run: "MaintenanceRun") -> str:
    """One line: ``integrity ok; backup monitor-20261128T033000Z.db (1.2 MB); 3 Reddit items ...``."""
    parts = [f"integrity {run.integrity}" if run.integrity == "ok" else "integrity FAILED"]
    if run.backup_path:
        parts.append(f"backup {Path(run.backup_path).name} ({(run.backup_bytes or 0) / 1e6:.1f} MB)")
    else:
        parts.append("no backup")
    parts.append(f"{run.pruned_reddit} old Reddit items and {run.pruned_runs} old run records deleted")
    return "; ".join(parts) + ("" if run.status == "ok" else " (with errors)")


def open_monitor(config: Config, *, clock: Callable[[], datetime] = utcnow,
                 secret: Callable[[str], str | None] = read_secret, tag: TagFunction | None = None) -> Monitor:
    """Open the configured database (migrating it) and sync the configured sources."""
    store = open_store(Path(config.storage.path))
    return Monitor(config, store, clock=clock, secret=secret, tag=tag)

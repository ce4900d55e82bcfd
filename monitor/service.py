"""``monitor run``: the long-running service. The only module that imports APScheduler.

It is a thin shell: its jobs call the same :class:`monitor.app.Monitor` methods as the
CLI (``collect``: news and everything but Reddit; ``reddit``; ``recheck``: Reddit
deletions; ``digest``; ``alerts``: delivering alerts held for quiet hours or whose
delivery failed, without waiting for a poll; ``maintenance``), and everything that must survive a restart
lives in the database, not in the scheduler: when each source is next due
(``fetch_state``), when Reddit was last re-checked (``rechecks``), which digest was
built and sent (``digests``), when maintenance last ran (``maintenance_runs``). So a
restart neither re-polls every source at once nor repeats a daily job, and a daily
job missed while the service was down runs when it comes back.

Jobs that touch the database run one at a time on one worker thread (so they never
contend for the connection or the write lock); the watchdog heartbeat has its own
thread. Every job has ``coalesce``, ``max_instances=1`` and a hard deadline on its
network work (``[service] cycle_deadline_seconds`` for a collection cycle, Reddit
comments included; ``recheck_deadline_seconds`` for the Reddit re-check; the SMTP
and webhook clients' total deadlines for the digest and alerts), so a hung or
trickling server can never block later runs for long. SIGTERM/SIGINT stop scheduling, let the batch being stored finish (or
roll it back) and return within :data:`STOP_SECONDS`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.app import REDDIT_KINDS, Monitor, maintenance_summary, open_monitor
from monitor.config import Config
from monitor.errors import MonitorError
from monitor.notify import Notifier, watchdog_interval
from monitor.store import jobs as job_store
from monitor.types import utcnow

log = logging.getLogger(__name__)

# systemd's default TimeoutStopSec is 90 s, ours 15 s; we promise to be gone within 10.
STOP_SECONDS = 8.0


class Progress:
    """What the jobs are doing, so the watchdog is fed only while the service makes progress.

    The service is stalled when a job has been running longer than ``stall_seconds``,
    or the collection job has not started for that long plus its interval. Once
    :meth:`close` is called no job starts any more, and :meth:`wait_idle` waits for
    the running one to end.
    """

    def __init__(self, stall_seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self.stall_seconds = stall_seconds
        self.clock = clock
        self.running: dict[str, float] = {}
        self.last_started: dict[str, float] = {}
        self.born = clock()
        self.closed = False
        self._cond = threading.Condition()

    def begin(self, job: str) -> bool:
        """Mark ``job`` as running; False (and nothing marked) once the service is stopping."""
        with self._cond:
            if self.closed:
                return False
            self.running[job] = self.last_started[job] = self.clock()
            return True

    def end(self, job: str) -> None:
        with self._cond:
            self.running.pop(job, None)
            self._cond.notify_all()

    def stalled(self, expect_every: dict[str, float] | None = None) -> str | None:
        """Why the service is stuck, or None while it is making progress.

        ``expect_every`` maps a job to the longest normal gap between its starts.
        """
        now = self.clock()
        with self._cond:
            for job, since in self.running.items():
                if now - since > self.stall_seconds:
                    return f"the {job} job has been running for {now - since:.0f} s"
            if not self.running:
                for job, gap in (expect_every or {}).items():
                    last = self.last_started.get(job, self.born)
                    if now - last > gap + self.stall_seconds:
                        return f"the {job} job has not run for {now - last:.0f} s"
        return None

    def close(self) -> None:
        with self._cond:
            self.closed = True

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job runs; True if that happened within ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: not self.running, timeout)


@dataclass
class JobStats:
    """Counts since the service started, shown in STATUS and stored in ``service_jobs``."""

    runs: int = 0
    errors: int = 0
    missed: int = 0
    last_error: str | None = None


@dataclass
class Service:
    """The scheduler, its jobs, the watchdog and the stop sequence around one :class:`Monitor`.

    ``start()`` / ``stop()`` for use in-process (tests); ``run_forever()`` adds the
    signal handling that ``monitor run`` needs.
    """

    config: Config
    notifier: Notifier = field(default_factory=Notifier)
    clock: Callable[[], datetime] = utcnow
    environ: dict[str, str] | None = None

    monitor: Monitor | None = field(default=None, init=False)
    stopping: threading.Event = field(default_factory=threading.Event, init=False)
    stats: dict[str, JobStats] = field(default_factory=dict, init=False)
    last_polls: dict[str, str] = field(default_factory=dict, init=False)  # job -> its last poll's summary

    def __post_init__(self) -> None:
        cfg = self.config.service
        self.progress = Progress(cfg.stall_minutes * 60)
        self.watchdog_seconds = watchdog_interval(self.environ)
        self.scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()
        self._stall_reported = False
        self._skipping: set[str] = set()  # jobs whose current run made a later one skip

    # --- life cycle ------------------------------------------------------------------------

    def job_names(self) -> list[str]:
        """The jobs this configuration needs: Reddit's only with Reddit sources and credentials."""
        names = ["collect"]
        if self.reddit_ready:
            names += ["reddit", "recheck"]
        if self.mail_ready:
            names.append("digest")
        if self.config.alerts is not None:
            names.append("alerts")
        return names + ["maintenance"]

    @property
    def mail_ready(self) -> bool:
        """Whether ``[email]`` says where digests go (the digest is only sent then)."""
        email = self.config.email
        return bool(email.sender and email.recipients)

    @property
    def reddit_ready(self) -> bool:
        if self.monitor is None or not self.config.reddit.enabled:
            return False
        unavailable = self.monitor.unavailable_kinds()
        return not any(kind in unavailable for kind in REDDIT_KINDS)

    def start(self) -> None:
        """Open (and migrate) the database, schedule the jobs, start, and tell systemd we are ready."""
        cfg = self.config.service
        self.monitor = open_monitor(self.config, clock=self.clock)
        unavailable = self.monitor.unavailable_kinds()
        if self.config.reddit.enabled and not self.reddit_ready:
            problem = next(unavailable[kind] for kind in REDDIT_KINDS if kind in unavailable)
            log.error("%s: Reddit sources are not collected or re-checked; provide them and restart", problem)
        if self.config.bluesky.enabled and "bluesky" in unavailable:
            log.error("%s: Bluesky sources are not collected; provide them and restart", unavailable["bluesky"])
        if not self.mail_ready:
            log.warning("[email] sender and recipients are not set: the daily digest is not sent "
                        "(`monitor digest` still builds it)")
        self.stats = {name: JobStats() for name in self.job_names()}
        job_store.service_started(self.monitor.store.db, self.job_names(), os.getpid(), self.clock())

        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1), "watchdog": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        now = datetime.now().astimezone()
        every_tick = IntervalTrigger(seconds=cfg.tick_seconds)
        scheduler.add_job(self._runner("collect", self.collect_job), every_tick, id="collect", name="collect",
                          next_run_time=now)
        if self.reddit_ready:
            scheduler.add_job(self._runner("reddit", self.reddit_job), IntervalTrigger(seconds=cfg.tick_seconds),
                              id="reddit", name="reddit", next_run_time=now)
            scheduler.add_job(self._runner("recheck", self.recheck_job),
                              IntervalTrigger(seconds=cfg.recheck_hours * 3600), id="recheck", name="recheck",
                              next_run_time=self._recheck_due(now))
        if self.mail_ready:
            digest = self.config.digest
            at_hour, at_minute = (int(part) for part in digest.time.split(":"))
            scheduler.add_job(self._runner("digest", self.digest_job),
                              CronTrigger(hour=at_hour, minute=at_minute, timezone=digest.timezone),
                              id="digest", name="digest", next_run_time=now)  # a digest missed while down
        if self.config.alerts is not None:  # held and failed alerts go out without waiting for a poll
            scheduler.add_job(self._runner("alerts", self.alerts_job),
                              IntervalTrigger(seconds=self.config.alerts.check_minutes * 60), id="alerts",
                              name="alerts", next_run_time=now)
        hour, minute = (int(part) for part in cfg.maintenance_time.split(":"))
        scheduler.add_job(self._runner("maintenance", self.maintenance_job),
                          CronTrigger(hour=hour, minute=minute, timezone=cfg.timezone),
                          id="maintenance", name="maintenance", next_run_time=now)  # catch up at start
        if self.watchdog_seconds:
            scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=self.watchdog_seconds / 2),
                              id="watchdog", name="watchdog", executor="watchdog", next_run_time=now)
        scheduler.start(paused=True)  # READY goes out before any job reports anything
        self.scheduler = scheduler
        sources = len(self.monitor.sources)
        log.info("started: %s, checking every %g s, database %s%s", _plural(sources, "source"), cfg.tick_seconds,
                 self.monitor.store.path,
                 f", watchdog every {self.watchdog_seconds / 2:g} s" if self.watchdog_seconds else "")
        if not sources:
            log.warning("no sources configured: add [[feeds]] or [[queries]] to %s", self.config.path)
        self.notifier.ready(f"started; {_plural(sources, 'source')}")
        scheduler.resume()

    def _recheck_due(self, now: datetime) -> datetime:
        """When the next Reddit re-check is due: its interval after the last one (kept in the
        database), so restarts neither repeat nor postpone it."""
        assert self.monitor is not None
        last = self.monitor.store.last_recheck("reddit")
        if last is None:
            return now
        return max(now, last.started_at + timedelta(hours=self.config.service.recheck_hours))

    def stop(self, timeout: float = STOP_SECONDS) -> bool:
        """Stop scheduling, let the running job finish its current batch, close the database.

        Returns False when a job was still busy after ``timeout`` seconds (its SQL was
        interrupted, which rolls its transaction back; the caller should then exit
        without waiting for it).
        """
        started = time.monotonic()
        self.stopping.set()
        self.progress.close()
        self.notifier.stopping("stopping")
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        idle = self.progress.wait_idle(max(0.0, timeout - 1.5))
        if not idle and self.monitor is not None:
            log.warning("stopping: %s still busy; interrupting its database work (rolled back)",
                        ", ".join(self.progress.running))
            self.monitor.store.db.conn.interrupt()
            idle = self.progress.wait_idle(max(0.0, timeout - (time.monotonic() - started)))
        if idle and self.monitor is not None:
            self.monitor.close()
        self.notifier.close()
        log.info("stopped%s", "" if idle else " (a job was still busy and was abandoned)")
        return idle

    def run_forever(self) -> bool:
        """Run until SIGTERM or SIGINT; returns :meth:`stop`'s result."""
        requested = threading.Event()

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            requested.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            while not requested.wait(0.1):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self.stop()

    # --- jobs ------------------------------------------------------------------------------

    def _runner(self, name: str, body: Callable[[], str | None]) -> Callable[[], None]:
        """Wrap a job: skip it once stopping, track progress, count and log errors, record it."""

        def run() -> None:
            if not self.progress.begin(name):
                return
            started = self.clock()
            status, error, summary = "ok", None, None
            try:
                summary = body()
            except JobFailed as caught:  # already logged with what to do
                status, error = "failed", str(caught)
            except MonitorError as caught:  # an expected failure: one line that says what is wrong
                status, error = "failed", str(caught)
                log.error("%s job failed: %s", name, error)
            except Exception as caught:  # a bug or a database problem: log, count, carry on next time
                status, error = "failed", f"{type(caught).__name__}: {caught}"
                log.exception("%s job failed: %s", name, error)
            stats = self.stats[name]
            with self._lock:
                self._skipping.discard(name)
                stats.runs += 1
                if status == "failed":
                    stats.errors += 1
                    stats.last_error = error
            try:
                if self.monitor is not None:
                    job_store.job_ended(self.monitor.store.db, name, started, self.clock(), status,
                                        error=error, summary=summary, runs=stats.runs, errors=stats.errors,
                                        missed=stats.missed)
            except Exception as caught:
                log.error("cannot record the %s job's run: %s", name, caught)
            finally:
                self.progress.end(name)
            if name in ("collect", "reddit"):
                self.notifier.status(self.status_line())

        run.__name__ = name
        return run

    def collect_job(self) -> str | None:
        """Poll the sources (all but Reddit's) whose due time has come."""
        assert self.monitor is not None
        other = {source.media for source in self.monitor.sources} - {"reddit"}
        return self._poll("collect", other)

    def reddit_job(self) -> str | None:
        """Poll the Reddit sources whose due time has come (and comments, if configured)."""
        return self._poll("reddit", {"reddit"})

    def _poll(self, job: str, media: set[str]) -> str | None:
        """One scheduled cycle over ``media``; returns its summary if any source was polled."""
        assert self.monitor is not None
        if not media:
            return None
        report = self.monitor.collect(scheduled=True, stop=self.stopping, media=media,
                                      cycle_deadline=self.config.service.cycle_deadline_seconds)
        polled = [r for r in report.results if r.status in ("ok", "not_modified", "failed")]
        if not polled:
            return None
        failed = sum(1 for r in polled if r.status == "failed")
        line = (f"{job} {report.started_at:%H:%M:%S} UTC: {_plural(len(polled), 'source')}, "
                f"{len(polled) - failed} ok, {failed} failed; {report.new} new, {report.updated} updated items")
        with self._lock:
            self.last_polls[job] = line
        return line

    def recheck_job(self) -> str | None:
        """Ask Reddit which stored posts were deleted upstream and purge them (Reddit's terms)."""
        assert self.monitor is not None
        report = self.monitor.recheck(stop=self.stopping, deadline=self.config.service.recheck_deadline_seconds)
        if report.error and not self.stopping.is_set():
            raise JobFailed(report.error)  # logged by recheck; tried again at the next interval
        return report.summary()

    def digest_job(self) -> str | None:
        """Send the digest that is due now, if any: at its time, at start-up (a digest missed
        while the service was down, within ``[digest] catch_up_hours``), and on retries.
        The ``digests`` table makes it once per date, even across a kill mid-send."""
        from monitor.errors import DigestError

        assert self.monitor is not None
        day = self.monitor.due_digest()
        if day is None:
            return None
        try:
            result = self.monitor.send_digest(day)
        except DigestError as error:
            retry = self.config.service.digest_retry_minutes
            log.error("the digest for %s was not sent: %s; trying again in %g min", day, error, retry)
            if self.scheduler is not None and not self.stopping.is_set():
                self.scheduler.add_job(self._runner("digest", self.digest_job), "date", id="digest-retry",
                                       name="digest", replace_existing=True,
                                       run_date=datetime.now().astimezone() + timedelta(minutes=retry))
            raise JobFailed(str(error)) from None
        if result.status == "already_sent":
            return None
        return f"sent the digest for {day} to {_plural(len(result.recipients), 'recipient')}"

    def alerts_job(self) -> str | None:
        """Deliver the alerts that are due without collecting: those held for quiet hours
        once they end, and deliveries that failed. New alerts are found by the collection
        cycles; this only makes sure none waits for the next poll of a source."""
        assert self.monitor is not None
        report = self.monitor.deliver_alerts()
        if report.failures:
            raise JobFailed("; ".join(report.failures))  # logged by the delivery; retried at the next check
        if not report.sent:
            return None
        return (f"sent {_plural(len(report.sent), 'alert')} in {_plural(len(report.messages), 'message')} by "
                f"{' and '.join(sorted({channel for channel, _n in report.messages}))}")

    def maintenance_job(self) -> str | None:
        """The daily maintenance, if it has not run since its scheduled time (so once a day)."""
        assert self.monitor is not None
        if not self.monitor.maintenance_due():
            return None
        run = self.monitor.maintain(stop=self.stopping)
        if self.stopping.is_set():
            return None
        if run.status != "ok":
            raise JobFailed(run.error or "maintenance failed")
        return maintenance_summary(run)

    def heartbeat(self) -> None:
        """Feed systemd's watchdog, unless the service is stuck (then systemd restarts it)."""
        expected: dict[str, float] = {job: self.config.service.tick_seconds for job in ("collect", "reddit")
                                      if job in self.stats}
        problem = self.progress.stalled(expected)
        if problem is None:
            self._stall_reported = False
            self.notifier.watchdog()
            return
        if not self._stall_reported:
            log.error("stalled: %s (limit %g min); no longer feeding the systemd watchdog, so systemd "
                      "will restart the service", problem, self.config.service.stall_minutes)
            self._stall_reported = True
        self.notifier.status(f"STALLED: {problem}")

    def _on_missed(self, event: JobExecutionEvent) -> None:
        """Count a run skipped because the job was still running (or, never with our settings, late)."""
        stats = self.stats.get(event.job_id)
        if stats is None:
            return
        with self._lock:
            stats.missed += 1
            first = event.job_id not in self._skipping
            self._skipping.add(event.job_id)
        if first:  # once per long run, not once per tick
            log.info("%s: still running, so the next run waits for it (skipped runs are counted)", event.job_id)

    def status_line(self) -> str:
        """systemd's STATUS: each collection job's last poll, and the job counters."""
        with self._lock:
            polls = "; ".join(self.last_polls[job] for job in ("collect", "reddit") if job in self.last_polls)
            errors = sum(s.errors for s in self.stats.values())
            missed = sum(s.missed for s in self.stats.values())
            checks = self.stats["collect"].runs if "collect" in self.stats else 0
        return (f"{polls or 'no source polled yet'}; {_plural(checks, 'check')}, {_plural(errors, 'job error')}, "
                f"{_plural(missed, 'missed run')}")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class JobFailed(Exception):
    """A job failed in a way it has already logged, with what to do; counted as a job error."""

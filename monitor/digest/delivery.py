"""Building, archiving, recording and sending a digest: the I/O around the pure builder.

``make_digest`` reads one snapshot of the database, builds and renders the digest,
writes it under ``[digest] archive_dir/YYYY-MM-DD/`` (each file replaced atomically, so
a re-build never leaves half a file) and records it in the ``digests`` table.

``send_digest`` sends each date at most once. The ``digests`` row moves
``built -> sending -> sent``, each step committed before the next action:

- ``sending`` is committed (with a Message-ID, the process and the time) *before*
  the SMTP conversation starts, and ``sent`` straight after the server accepts the
  message. A second sender (the CLI while the service runs) sees ``sending`` by a live
  process and stops.
- If the process dies in between (kill -9, power cut), the next attempt finds
  ``sending`` left by a process that no longer exists. SMTP cannot tell us whether the
  server accepted the message; nearly all of that interval is spent before the
  server's final "250 OK" (connecting, TLS, login, transfer), and an SMTP server
  discards a message whose connection dropped before that reply. So the choice is
  to send again, with the *same* Message-ID, which lets mail systems that
  deduplicate on it collapse the copy: exactly once, except when the crash falls
  in the instant between the server's "250" and our commit, when a recipient may
  see the same message twice (never zero times).
- A send that fails with an error (refused, timed out) certainly did not go out: the
  row returns to its previous status with the error recorded, and a later run
  retries with the same Message-ID.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from monitor.config import Config
from monitor.digest import days as _days
from monitor.digest.build import Digest, build_digest
from monitor.errors import DigestError, MailError
from monitor.store import Store
from monitor.store import digest as _sql
from monitor.store.db import write
from monitor.types import from_iso, to_iso

log = logging.getLogger(__name__)

CHART_DAYS = 28
PROCESS_TOKEN = uuid.uuid4().hex  # tells this process from a crashed one that had the same pid
LEASE_MARGIN = timedelta(minutes=2)  # a "sending" mark older than the SMTP deadline plus this is stale


@dataclass(frozen=True)
class DigestResult:
    """A built and archived digest."""

    digest: Digest
    html: str  # as archived (the chart as a file next to it)
    text: str
    chart_png: bytes | None
    html_path: Path
    text_path: Path
    chart_path: Path | None
    copies: tuple[Path, ...] = ()  # the same files written to --out

    @property
    def day(self) -> date:
        return self.digest.window.day

    @property
    def subject(self) -> str:
        return self.digest.subject


@dataclass(frozen=True)
class SendResult:
    """What ``send_digest`` did for one date."""

    day: date
    status: str  # sent | already_sent
    subject: str
    recipients: tuple[str, ...]
    message_id: str | None
    sent_at: datetime | None
    attempts: int
    refused: tuple[str, ...] = ()
    resumed: bool = False  # a previous attempt was interrupted mid-send; this one sent it again
    built: DigestResult | None = None


# --- building -------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    value = to_iso(moment)
    assert value is not None  # a window's bounds are always set
    return value


def read_data(store: Store, config: Config, day: date) -> tuple[_days.Window, _sql.DigestData]:
    digest_config = config.digest
    spans = _days.windows(day, 2 * CHART_DAYS, digest_config)
    chart_days = spans[-CHART_DAYS:]
    iso = [(_iso(w.start), _iso(w.end)) for w in spans]
    periods = {
        "today": iso[-1],
        "recent": (iso[-CHART_DAYS][0], iso[-1][1]),
        "previous": (iso[0][0], iso[-CHART_DAYS - 1][1]),
    }
    data = _sql.read_digest_data(
        store.db,
        days=iso[-CHART_DAYS:],
        platform_periods=periods,
        platform_topics=digest_config.platform_topics,
        platform_media=digest_config.platform_media,
        history=(iso[-CHART_DAYS][0], iso[-1][1]),
        platform_chart=digest_config.chart == "platforms",
    )
    return chart_days[-1], data


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _write_files(folder: Path, html: str, text: str, chart: bytes | None) -> tuple[Path, Path, Path | None]:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        html_path, text_path, chart_path = folder / "digest.html", folder / "digest.txt", folder / "chart.png"
        if chart is not None:
            _write_atomically(chart_path, chart)
        elif chart_path.exists():
            chart_path.unlink()  # a re-build with nothing to chart must not keep an old chart
        _write_atomically(text_path, text.encode("utf-8"))
        _write_atomically(html_path, html.encode("utf-8"))
    except OSError as error:
        raise DigestError(f"cannot write the digest to {folder}: {error.strerror or error}") from None
    return html_path, text_path, chart_path if chart is not None else None


def chart_note(chart_path: Path | None, digest: Digest) -> str | None:
    if chart_path is None:
        return None
    return f"{digest.chart.title.lower()} over {len(digest.chart.days)} days, in the HTML version."


def counts_of(digest: Digest) -> dict[str, object]:
    head = digest.headline
    return {
        "relevant": head.relevant,
        "stories": head.stories,
        "collected": head.collected,
        "untagged": head.untagged,
        "average_7d": None if head.average is None else round(head.average, 2),
        "by_media": {m.media: m.today for m in head.by_media},
        "busiest_topic": head.busiest,
        "failing_sources": sum(1 for p in digest.health if p.state != "silent"),
        "silent_sources": sum(1 for p in digest.health if p.state == "silent"),
    }


def make_digest(store: Store, config: Config, day: date | None, now: datetime,
                out_dir: Path | None = None) -> DigestResult:
    """Build the digest for ``day`` (default: the latest complete day), archive it and
    record it. Building a date again re-renders its archive."""
    from monitor.digest.chart import render_chart
    from monitor.digest.render import render_html, render_text

    day = day or _days.latest_complete_day(now, config.digest)
    window, data = read_data(store, config, day)
    digest = build_digest(data, window, config.digest, now)
    png = render_chart(digest.chart)
    folder = Path(config.digest.archive_dir) / day.isoformat()
    chart_name = "chart.png" if png is not None else None
    html = render_html(digest, chart_name)
    text = render_text(digest, chart_note(folder / "chart.png" if png else None, digest))
    html_path, text_path, chart_path = _write_files(folder, html, text, png)
    copies: tuple[Path, ...] = ()
    if out_dir is not None:
        written = _write_files(Path(out_dir), html, text, png)
        copies = tuple(p for p in written if p is not None)
    with write(store.db):
        _sql.record_built(
            store.db,
            day=day.isoformat(),
            span=(to_iso(window.start), to_iso(window.end)),  # type: ignore[arg-type]
            built_at=now,
            subject=digest.subject,
            paths=(str(html_path), str(text_path), str(chart_path) if chart_path else None),
            relevant=digest.headline.relevant,
            stories=digest.headline.stories,
            counts=counts_of(digest),
        )
    log.info("built the digest for %s: %s", day, html_path)
    return DigestResult(digest, html, text, png, html_path, text_path, chart_path, copies)


# --- sending --------------------------------------------------------------------------------


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def sender_alive(record: _sql.DigestRecord, now: datetime, timeout: float) -> bool:
    """Whether the process that marked ``record`` as sending may still be sending it."""
    return lease_alive(record.send_started_at, record.sending_host, record.sending_token, record.sending_pid,
                       now, timeout)


def lease_alive(started_at: str | None, host: str | None, token: str | None, pid: int | None, now: datetime,
                timeout: float) -> bool:
    """Whether a "sending" mark (when, which host, process token and pid) may belong to a
    sender still at work; alerts use the same rule (``monitor.alerts.deliver``)."""
    started = from_iso(started_at)
    if started is None or now - started > timedelta(seconds=timeout) + LEASE_MARGIN:
        return False  # past any deadline it could have had
    if host != socket.gethostname():
        return True  # cannot look at another machine's processes: trust the lease
    if token == PROCESS_TOKEN:
        return True  # this very process (another thread)
    return pid is not None and pid != os.getpid() and _process_alive(pid)


def _already(record: _sql.DigestRecord, day: date) -> SendResult:
    return SendResult(day, "already_sent", record.subject, record.recipients, record.message_id,
                      from_iso(record.sent_at), record.attempts)


def send_digest(store: Store, config: Config, day: date | None, now: datetime, *, force: bool = False
                ) -> SendResult:
    """Build (fresh), archive and email the digest for ``day`` (default: the latest
    complete day), at most once per date unless ``force``. See the module docstring
    for what happens after a crash."""
    from monitor.digest.mail import InlineImage, build_message, check_email_config, new_content_id, new_message_id
    from monitor.digest.render import render_html

    email = config.email
    try:
        check_email_config(email)
    except MailError as error:
        raise DigestError(str(error)) from None
    day = day or _days.latest_complete_day(now, config.digest)
    due = _days.end_of_day(day, config.digest)
    if now < due:
        local = due.astimezone(_days.zone(config.digest.timezone))
        raise DigestError(
            f"the digest for {day} covers the day up to {local:%H:%M} on {day} ({config.digest.timezone}),"
            " which is not over yet; it cannot be sent before then"
        )
    key = day.isoformat()
    record = _sql.get_record(store.db, key)
    if record is not None and record.status == "sent" and not force:
        return _already(record, day)

    built = make_digest(store, config, day, now)

    with write(store.db):  # claim the send; the transaction makes the check-and-mark atomic
        record = _sql.get_record(store.db, key)
        assert record is not None  # make_digest just recorded it
        if record.status == "sent" and not force:
            return _already(record, day)
        if record.status == "sending" and sender_alive(record, now, email.timeout):
            raise DigestError(
                f"the digest for {day} is being sent right now by another process (pid {record.sending_pid} on "
                f"{record.sending_host}, since {record.send_started_at}); not sending it twice"
            )
        resumed = record.status == "sending"
        previous = "sent" if record.status == "sent" or (resumed and record.sent_at) else "built"
        if record.message_id and not force:
            message_id = record.message_id  # a retry is the same message, for deduplication
        else:
            message_id = new_message_id(email.sender, f"digest-{key}")
        _sql.mark_sending(store.db, key, message_id=message_id, now=now, pid=os.getpid(),
                          host=socket.gethostname(), token=PROCESS_TOKEN)
    if resumed:
        log.warning("a previous attempt to send the digest for %s was interrupted; sending it again with the "
                    "same Message-ID %s", day, message_id)

    digest = built.digest
    images = []
    cid = None
    if built.chart_png is not None:
        cid = new_content_id(email.sender, f"chart-{key}")
        images.append(InlineImage(built.chart_png, cid, "chart.png"))
    html = render_html(digest, f"cid:{cid}" if cid else None)
    message = build_message(subject=digest.subject, sender=email.sender, recipients=email.recipients,
                            text=built.text, html=html, images=images, message_id=message_id, date=now)
    raw = message.as_bytes()  # fixes the MIME boundaries, so the archived copy is the message sent
    try:
        from monitor.digest.mail import send_message

        refused = send_message(email, message)
    except BaseException as error:
        reason = str(error) if isinstance(error, MailError) else f"interrupted: {type(error).__name__}"
        with write(store.db):
            _sql.mark_send_failed(store.db, key, error=reason, previous_status=previous)
        if isinstance(error, MailError):
            raise DigestError(f"the digest for {day} was not sent: {error}") from None
        raise
    accepted = [r for r in email.recipients if r not in refused]
    with write(store.db):
        _sql.mark_sent(store.db, key, now=now, recipients=accepted, subject=digest.subject)
        attempts = _sql.get_record(store.db, key).attempts  # type: ignore[union-attr]
    _archive_message(built, raw)
    log.info("sent the digest for %s to %d recipient(s)", day, len(accepted))
    return SendResult(day, "sent", digest.subject, tuple(accepted), message_id, now, attempts,
                      tuple(refused), resumed, built)


def _archive_message(built: DigestResult, data: bytes) -> None:
    """Keep the exact message sent next to the archived digest (best effort)."""
    try:
        _write_atomically(built.html_path.with_name("message.eml"), data)
    except OSError as error:
        log.warning("could not archive the sent message: %s", error)


def last_sent(store: Store) -> date | None:
    value = _sql.last_sent_date(store.db)
    return date.fromisoformat(value) if value else None


def history(store: Store, limit: int = 30) -> list[_sql.DigestRecord]:
    return _sql.records(store.db, limit)


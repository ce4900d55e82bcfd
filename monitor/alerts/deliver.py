"""Sending recorded alerts, exactly once per channel, crash-safe (the digest's approach).

Every alert is a row before anything is sent (:mod:`.engine`). Delivery, per channel:

- Outside quiet hours, the channel's pending alerts are claimed together in one write
  transaction: ``sending``, with one Message-ID, the process and the time, committed
  *before* the message goes out, and ``sent`` straight after it was accepted. A
  second process sees ``sending`` by a live sender and leaves those rows alone.
- A delivery that fails with an error (SMTP refused or timed out, webhook answered
  5xx or not at all) returns its rows to ``pending`` with the error and an attempt
  count: they go out with the next cycle's, never dropped, never duplicated.
- If the process dies between claim and mark (kill -9), the next run finds ``sending``
  left by a process that no longer exists and sends the same message again, with the
  same Message-ID: an SMTP server discards a message whose connection broke before
  its final "250", so email arrives once (see :mod:`monitor.digest.delivery` for the
  one instant when a copy is possible). A webhook POST that timed out may have been
  processed; it is retried, so a chat may in that case see it twice, never zero times.
- During quiet hours nothing is sent; everything held goes out in one message per
  channel at the first run after they end.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Sequence

from monitor.alerts.compose import STORIES_SHOWN, AlertView, Message, compose, story_lines
from monitor.alerts.quiet import quiet_until
from monitor.config import AlertsConfig, Config
from monitor.digest.days import zone
from monitor.errors import AlertError, MailError
from monitor.store import Store
from monitor.store import alerts as _sql
from monitor.store.db import write

log = logging.getLogger(__name__)

MAX_PER_MESSAGE = 20  # alerts in one message; more go in the next
KIND_ORDER = {"rule": 0, "spike": 1, "health": 2}


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: list[int] = field(default_factory=list)  # alert ids
    messages: list[tuple[str, int]] = field(default_factory=list)  # (channel, alerts in it)
    held: int = 0
    held_until: datetime | None = None
    busy: int = 0  # being sent by another live process
    failures: list[str] = field(default_factory=list)  # one line each, the channel and why


def view(store: Store, record: _sql.AlertRecord, tz: str) -> AlertView:
    """An alert as its reader sees it, with its stories read now (items deleted upstream
    since the alert was recorded are left out)."""
    rows, titles = _sql.item_rows(store.db, record.items)
    stories = story_lines(rows, tz, titles)
    reasons = tuple(str(line) for line in record.detail.get("why", ()))
    return AlertView(record.id, record.kind, record.title, reasons, tuple(stories[:STORIES_SHOWN]),
                     max(0, len(stories) - STORIES_SHOWN), record.created_at.astimezone(zone(tz)))


def message_for(store: Store, records: Sequence[_sql.AlertRecord], config: Config, now: datetime) -> Message:
    tz = config.digest.timezone
    ordered = sorted(records, key=lambda r: (KIND_ORDER.get(r.kind, 9), r.id))
    return compose([view(store, record, tz) for record in ordered], tz, now)


def deliver(store: Store, config: Config, now: datetime, *, secret: Callable[[str], str | None],
            clock: Callable[[], datetime] | None = None) -> DeliveryReport:
    """Send every alert that is due, one message per channel (see the module docstring)."""
    from monitor.digest.delivery import PROCESS_TOKEN, lease_alive

    alerts = config.alerts
    assert alerts is not None
    report = DeliveryReport()
    unsent = _sql.unsent(store.db)
    if not unsent:
        return report
    held_until = quiet_until(now, alerts.quiet_hours, config.digest.timezone)
    if held_until is not None:
        report.held, report.held_until = len(unsent), held_until
        return report
    for channel in sorted({r.channel for r in unsent}):
        timeout = _timeout(config, channel)
        while True:
            with write(store.db):  # claim one message's alerts; the transaction makes check-and-mark atomic
                rows = [r for r in _sql.unsent(store.db) if r.channel == channel]
                stale = [r for r in rows if r.status == "sending" and not lease_alive(
                    r.send_started_at, r.sending_host, r.sending_token, r.sending_pid, now, timeout)]
                busy = [r for r in rows if r.status == "sending" and r not in stale]
                if stale:  # resend an interrupted message as it was, with the same Message-ID
                    group = [r for r in stale if r.message_id == stale[0].message_id]
                    message_id = group[0].message_id or _message_id(config, channel, group)
                    resumed = True
                else:
                    group = [r for r in rows if r.status == "pending"][:MAX_PER_MESSAGE]
                    message_id = _message_id(config, channel, group) if group else ""
                    resumed = False
                if not group:
                    report.busy += len(busy)
                    break
                ids = [r.id for r in group]
                _sql.mark_sending(store.db, ids, message_id=message_id, now=now, pid=os.getpid(),
                                  host=socket.gethostname(), token=PROCESS_TOKEN)
            if resumed:
                log.warning("an earlier delivery of alert(s) %s by %s was interrupted; sending it again",
                            ", ".join(map(str, ids)), channel)
            error = _send(store, config, channel, group, message_id, now, secret)
            with write(store.db):
                if error is None:
                    _sql.mark_sent(store.db, ids, clock() if clock else now)
                else:
                    _sql.mark_failed(store.db, ids, error)
            if error is not None:
                report.failures.append(f"{channel}: {error}")
                log.error("alert delivery by %s failed (%d alert(s) kept, retried next cycle): %s", channel,
                          len(ids), error)
                break  # the channel is down: the rest wait for the next cycle with these
            report.sent += ids
            report.messages.append((channel, len(ids)))
            log.info("sent %d alert(s) by %s", len(ids), channel)
    return report


def _timeout(config: Config, channel: str) -> float:
    return config.email.timeout if channel == "email" else config.http.timeout


def _message_id(config: Config, channel: str, group: Sequence[_sql.AlertRecord]) -> str:
    from monitor.digest.mail import new_message_id

    label = f"alert-{group[0].id}" if group else "alert"
    if channel == "email":
        return new_message_id(config.email.sender, label)
    return f"<{label}.{uuid.uuid4().hex[:20]}@webhook.invalid>"


def _send(store: Store, config: Config, channel: str, group: Sequence[_sql.AlertRecord], message_id: str,
          now: datetime, secret: Callable[[str], str | None]) -> str | None:
    """Deliver one message; the reason it failed, or None. Interruptions (Ctrl-C, a
    stop) return the rows to pending and propagate."""
    try:
        message = message_for(store, group, config, now)
        if channel == "email":
            _email(config, message, message_id, now)
        else:
            _webhook(config.alerts, config.http.user_agent, config.http.timeout, message, secret)  # type: ignore[arg-type]
    except (AlertError, MailError) as error:
        return str(error)
    except BaseException as error:
        with write(store.db):
            _sql.mark_failed(store.db, [r.id for r in group], f"interrupted: {type(error).__name__}")
        raise
    return None


def _email(config: Config, message: Message, message_id: str, now: datetime) -> None:
    from monitor.digest.mail import build_message, send_message

    email = config.email
    mail = build_message(subject=message.subject, sender=email.sender, recipients=email.recipients,
                         text=message.text, html=message.html, message_id=message_id, date=now)
    send_message(email, mail)


def _webhook(alerts: AlertsConfig, user_agent: str, timeout: float, message: Message,
             secret: Callable[[str], str | None]) -> None:
    from monitor.alerts.webhook import post_text

    url = secret(alerts.webhook_url_env)
    if not url:
        raise AlertError(f"no webhook URL: set the environment variable {alerts.webhook_url_env}"
                         " (or the systemd credential of that name)")
    post_text(url, message.chat, timeout=timeout, user_agent=user_agent)

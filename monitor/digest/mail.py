"""Email: building a multipart message and sending it over SMTP. The only module that sends mail.

:func:`send_message` is deliberately general (any :class:`~email.message.EmailMessage`,
the ``[email]`` section) so alerts can reuse it. Security rules:

- ``starttls`` refuses to go on if the server does not offer STARTTLS (no silent fall
  back to clear text); ``tls`` is TLS from the first byte; both verify the server's
  certificate against the system's trust store. ``none`` is only accepted for a relay
  on 127.0.0.1 / ::1 (checked when the config is loaded, and again here).
- The password comes from the environment variable or systemd credential named by
  ``password_env`` (:func:`monitor.config.read_secret`), never from the file.
- The whole send has a hard deadline (``timeout``): a server that trickles its answers
  is cut off, so a scheduled job can never hang on it.
- Header values are built from our own words and validated addresses; control
  characters are stripped from the subject before it reaches a header.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Sequence

from monitor.config import LOOPBACK, EmailConfig, read_secret
from monitor.errors import MailError
from monitor.sources.normalise import clean_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InlineImage:
    """An image shown inside the HTML part, referenced there as ``cid:<cid>``."""

    data: bytes
    cid: str  # without angle brackets
    filename: str
    subtype: str = "png"


def new_message_id(sender: str, label: str) -> str:
    """A fresh ``<label.random@domain>`` Message-ID on the sender's domain.

    Kept short so the header is never folded (some parsers keep the fold's space).
    """
    domain = clean_text(parseaddr(sender)[1].rpartition("@")[2]) or "monitor.invalid"
    safe_label = "".join(ch for ch in label if ch.isalnum() or ch in "-.")[:40] or "monitor"
    return f"<{safe_label}.{uuid.uuid4().hex[:20]}@{domain}>"


def new_content_id(sender: str, label: str) -> str:
    return new_message_id(sender, label)[1:-1]


def build_message(
    *,
    subject: str,
    sender: str,
    recipients: Sequence[str],
    text: str,
    html: str | None = None,
    images: Sequence[InlineImage] = (),
    message_id: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """A ``multipart/alternative`` message: plain text, then HTML with its images inline
    (``multipart/related``), so no client ever fetches anything remote."""
    message = EmailMessage()
    message["Subject"] = clean_text(subject)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(date) if date else format_datetime(datetime.now().astimezone())
    message["Message-ID"] = message_id or new_message_id(sender, "monitor")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to us
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text, subtype="plain", charset="utf-8")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
        html_part: EmailMessage = message.get_payload()[1]  # type: ignore[index,assignment]
        for image in images:
            html_part.add_related(image.data, maintype="image", subtype=image.subtype, cid=f"<{image.cid}>",
                                  filename=image.filename, disposition="inline")
    return message


def check_email_config(config: EmailConfig) -> None:
    """Raise :class:`MailError` naming the missing ``[email]`` keys."""
    missing = [key for key, value in (("email.sender", config.sender), ("email.recipients", config.recipients))
               if not value]
    if missing:
        raise MailError(f"cannot send mail: set {' and '.join(missing)} in the configuration")
    if config.security == "none" and config.host not in LOOPBACK:
        raise MailError(f"refusing to send mail unencrypted to {config.host}: use security = \"starttls\" or \"tls\"")


def _password(config: EmailConfig) -> str | None:
    if not config.username:
        return None
    password = read_secret(config.password_env)
    if password is None:
        raise MailError(
            f"no SMTP password: set the environment variable {config.password_env} "
            f"(or the systemd credential of that name) for user {config.username!r}"
        )
    return password


def send_message(config: EmailConfig, message: EmailMessage, *, recipients: Sequence[str] | None = None
                 ) -> dict[str, tuple[int, bytes]]:
    """Send ``message`` through the configured SMTP server, within ``config.timeout`` seconds.

    Returns the recipients the server refused (empty when all were accepted); raises
    :class:`MailError` when nothing was sent. ``recipients`` defaults to
    ``config.recipients``.
    """
    check_email_config(config)
    to = list(recipients or config.recipients)
    password = _password(config)
    where = f"{config.host}:{config.port}"
    context = ssl.create_default_context() if config.security != "none" else None
    if config.security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(context=context, timeout=config.timeout)
    else:
        smtp = smtplib.SMTP(timeout=config.timeout)
    # The name the certificate is checked against. smtplib takes it from the constructor's
    # host only, and the constructor is not given one (it would connect there, outside
    # the deadline below): without this, TLS and STARTTLS fail with "check_hostname
    # requires server_hostname".
    smtp._host = config.host  # type: ignore[attr-defined]
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        sock = getattr(smtp, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read at once
            except OSError:
                pass

    timer = threading.Timer(config.timeout, cut_off)
    timer.daemon = True
    timer.start()
    sent = False
    try:
        smtp.connect(config.host, config.port)
        smtp.ehlo()
        if config.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise MailError(f"{where} does not offer STARTTLS; refusing to send in clear text")
            smtp.starttls(context=context)
            smtp.ehlo()
        if password is not None:
            smtp.login(config.username, password)
        refused = smtp.send_message(message, from_addr=parseaddr(config.sender)[1], to_addrs=to)
        sent = True
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(f"the SMTP server {where} refused the login for {config.username!r}"
                        f" ({error.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError(f"the SMTP server {where} refused every recipient: {', '.join(error.recipients)}") from None
    except ssl.SSLError as error:
        raise MailError(f"TLS with {where} failed: {error.reason or error}") from None
    except (smtplib.SMTPException, OSError) as error:
        if expired.is_set():
            raise MailError(f"sending mail through {where} took longer than {config.timeout:g} s; gave up") from None
        reason = clean_text(str(error)) or type(error).__name__
        raise MailError(f"cannot send mail through {where}: {reason}") from None
    finally:
        try:
            if sent:
                smtp.quit()  # still under the deadline
            else:
                smtp.close()
        except (smtplib.SMTPException, OSError):
            smtp.close()
        timer.cancel()
    if refused:
        log.warning("%s refused %d of %d recipients: %s", where, len(refused), len(to), ", ".join(refused))
    return refused

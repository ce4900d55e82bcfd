"""systemd's notification protocol (``sd_notify``), in a few lines of standard library.

With ``Type=notify`` systemd passes ``NOTIFY_SOCKET`` (a datagram socket: a path, or
``@name`` for an abstract socket) and waits for ``READY=1``; with ``WatchdogSec=`` it
also passes ``WATCHDOG_USEC`` and restarts the service when ``WATCHDOG=1`` stops
arriving. Outside systemd there is no ``NOTIFY_SOCKET`` and every call does nothing,
so the same code runs in a terminal, in tests and under systemd.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Mapping

from monitor.sources.normalise import clean_text

log = logging.getLogger(__name__)

MAX_STATUS = 400  # systemctl status shows one line; keep it readable


def socket_address(value: str | None) -> str | bytes | None:
    """The address to send to: a filesystem path, or an abstract name (``@x`` -> ``\\0x``)."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock: and other transports are not used by our unit


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between watchdog pings systemd expects (``WatchdogSec``), or None.

    As ``sd_watchdog_enabled``: ``WATCHDOG_USEC`` must be a positive number and
    ``WATCHDOG_PID``, when set, must be this process.
    """
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 1_000_000


class Notifier:
    """Sends state changes to systemd; a no-op without ``NOTIFY_SOCKET``.

    Never raises and never blocks (a full socket drops the message): the service must
    keep collecting whatever happens to its supervisor. The first failure is logged.
    """

    def __init__(self, address: str | None = None, *, environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.address = socket_address(address if address is not None else env.get("NOTIFY_SOCKET"))
        self._socket: socket.socket | None = None
        self._warned = False
        self._lock = threading.Lock()  # jobs and the heartbeat notify from different threads

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, **fields: object) -> bool:
        """Send ``KEY=value`` lines in one datagram; True if it was sent."""
        if not self.enabled:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode("utf-8")
        with self._lock:
            try:
                if self._socket is None:
                    self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._socket.sendto(message, socket.MSG_DONTWAIT, self.address)  # type: ignore[arg-type]
                return True
            except OSError as error:
                if not self._warned:
                    log.warning("cannot notify systemd at %r: %s", self.address, error)
                    self._warned = True
                return False

    def ready(self, status: str | None = None) -> bool:
        return self.send(READY=1, **({"STATUS": _one_line(status)} if status else {}))

    def status(self, text: str) -> bool:
        return self.send(STATUS=_one_line(text))

    def watchdog(self) -> bool:
        return self.send(WATCHDOG=1)

    def stopping(self, status: str | None = None) -> bool:
        return self.send(STOPPING=1, **({"STATUS": _one_line(status)} if status else {}))

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


def _one_line(text: str) -> str:
    """STATUS is one line of plain text; collected titles must not smuggle in a new field."""
    return clean_text(" ".join(text.split()))[:MAX_STATUS]

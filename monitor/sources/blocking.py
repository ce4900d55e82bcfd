"""Blocking calls (praw) from the event loop, in daemon threads that never hold up exit.

``asyncio.to_thread`` runs a call in the loop's default executor, whose worker
threads Python joins at exit: a call abandoned at its deadline (a Reddit request
retrying for ~100 s, or praw sleeping out a rate-limit window) would keep ``monitor
run`` from exiting, past systemd's ``TimeoutStopSec``. :func:`in_daemon_thread` runs
the call on a daemon thread of its own and hands the outcome back through a future
the loop awaits; cancelling the await abandons the call, which finishes (or not) on
its own, and nothing waits for it. :func:`call_with_deadline` does the same for a
caller outside any event loop (the Reddit re-check and comment fetch, run on the
service's one worker thread): it waits until a deadline or a stop request, then
abandons the call, so a server trickling its answer cannot hold up later jobs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")


async def in_daemon_thread(fn: Callable[..., T], /, *args: Any, name: str = "monitor-blocking",
                           abandoned: Callable[[], None] | None = None) -> T:
    """``await fn(*args)`` run on a new daemon thread.

    If the await is cancelled while ``fn`` is still running, ``abandoned()`` is called
    (in the loop) and the cancellation goes on; ``fn``'s eventual outcome is dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(outcome: tuple[bool, Any]) -> None:
        if future.done():  # cancelled meanwhile: nobody wants it
            return
        ok, value = outcome
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def hand_over(outcome: tuple[bool, Any]) -> None:
        try:
            loop.call_soon_threadsafe(deliver, outcome)
        except RuntimeError:  # the loop is closed: the call was abandoned long ago
            pass

    thread = _start(fn, args, name, hand_over)
    try:
        return await future
    except asyncio.CancelledError:
        if thread.is_alive() and abandoned is not None:
            abandoned()
        raise


def _start(fn: Callable[..., Any], args: tuple[Any, ...], name: str,
           hand_over: Callable[[tuple[bool, Any]], None]) -> threading.Thread:
    """Run ``fn(*args)`` on a new daemon thread; ``hand_over((ok, result or exception))`` at its end."""

    def work() -> None:
        try:
            outcome: tuple[bool, Any] = (True, fn(*args))
        except BaseException as error:  # handed to the waiting caller, which re-raises it
            outcome = (False, error)
        hand_over(outcome)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    return thread


class Abandoned(Exception):
    """A blocking call given up (its deadline passed, or ``stop`` was set); it finishes on its own."""

    def __init__(self, message: str, *, stopped: bool = False):
        super().__init__(message)
        self.stopped = stopped


STOP_POLL_SECONDS = 0.2  # how often a wait looks at its stop event


def call_with_deadline(fn: Callable[..., T], /, *args: Any, ends_at: float | None,
                       stop: threading.Event | None = None, name: str = "monitor-blocking",
                       abandoned: Callable[[], None] | None = None,
                       clock: Callable[[], float] = time.monotonic) -> T:
    """``fn(*args)`` run on a new daemon thread, waited for until ``ends_at`` (``clock``
    time; None: no deadline) or until ``stop`` is set.

    Raises :class:`Abandoned` then, after calling ``abandoned()``; ``fn``'s eventual
    outcome is dropped. Otherwise returns its result or raises its exception.
    """
    done = threading.Event()
    box: list[tuple[bool, Any]] = []

    def hand_over(outcome: tuple[bool, Any]) -> None:
        box.append(outcome)
        done.set()

    _start(fn, args, name, hand_over)
    while True:
        wait = None if ends_at is None else max(0.0, ends_at - clock())
        if stop is not None:
            wait = STOP_POLL_SECONDS if wait is None else min(wait, STOP_POLL_SECONDS)
        if done.wait(wait):
            ok, value = box[0]
            if ok:
                return value  # type: ignore[no-any-return]
            raise value
        if stop is not None and stop.is_set():
            reason, stopped = "interrupted: the service is stopping", True
        elif ends_at is not None and clock() >= ends_at:
            reason, stopped = "deadline passed", False
        else:
            continue
        if abandoned is not None:
            abandoned()
        raise Abandoned(reason, stopped=stopped)

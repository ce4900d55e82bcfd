"""Blocking calls (praw) from the event loop, in daemon threads that never hold up exit.

``asyncio.to_thread`` runs a call in the loop's default executor, whose worker
threads Python joins at exit: a call abandoned at its deadline (a Reddit request
retrying for ~100 s, or praw sleeping out a rate-limit window) would keep ``monitor
run`` from exiting, past systemd's ``TimeoutStopSec``. :func:`in_daemon_thread` runs
the call on a daemon thread of its own and hands the outcome back through a future
the loop awaits; cancelling the await abandons the call, which finishes (or not) on
its own, and nothing waits for it.
"""

from __future__ import annotations

import asyncio
import threading
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

    def work() -> None:
        try:
            outcome: tuple[bool, Any] = (True, fn(*args))
        except BaseException as error:  # handed to the awaiting coroutine, which re-raises it
            outcome = (False, error)
        try:
            loop.call_soon_threadsafe(deliver, outcome)
        except RuntimeError:  # the loop is closed: the call was abandoned long ago
            pass

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        return await future
    except asyncio.CancelledError:
        if thread.is_alive() and abandoned is not None:
            abandoned()
        raise

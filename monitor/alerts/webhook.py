"""Posting an alert to a chat webhook: Slack-compatible JSON ``{"text": ...}``.

The URL is a secret (whoever holds a Slack webhook URL can post to the channel): it
comes from the environment variable or systemd credential named by ``[alerts]
webhook_url_env`` and never appears in a log line, an error or the database. The POST
has a hard deadline for the whole exchange, follows no redirect, and reads at most a
few kilobytes of the answer; any 2xx is success.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from typing import Any, Coroutine, TypeVar

from monitor.config import http_url
from monitor.errors import AlertError
from monitor.sources.normalise import clean_text

T = TypeVar("T")
ANSWER_BYTES = 4096


def post_text(url: str, text: str, *, timeout: float, user_agent: str) -> None:
    """POST ``{"text": text}`` to ``url`` within ``timeout`` seconds; raise
    :class:`AlertError` (never naming the URL) when it was not accepted."""
    if http_url(url):
        raise AlertError("the webhook URL is not an http(s) URL")
    payload = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
    status, reason, answer = _run(_post(url, payload, timeout, user_agent), timeout)
    if not 200 <= status < 300:
        said = clean_text(answer.decode("utf-8", "replace"))[:120]
        raise AlertError(f"the webhook answered HTTP {status} {clean_text(reason)}".rstrip()
                         + (f" ({said})" if said else ""))


async def _post(url: str, payload: bytes, timeout: float, user_agent: str) -> tuple[int, str, bytes]:
    import aiohttp

    try:
        async with asyncio.timeout(timeout):
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
                async with session.post(url, data=payload, allow_redirects=False,
                                        headers={"Content-Type": "application/json; charset=utf-8",
                                                 "User-Agent": user_agent}) as response:
                    answer = await response.content.read(ANSWER_BYTES)
                    return response.status, response.reason or "", answer
    except TimeoutError:
        raise AlertError(f"the webhook did not answer within {timeout:g} s") from None
    except aiohttp.ClientError as error:
        os_error = getattr(error, "os_error", None)
        reason = getattr(os_error, "strerror", None) or type(error).__name__
        raise AlertError(f"cannot reach the webhook: {reason}") from None


def _run(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run ``coro`` to completion from synchronous code, also when this thread already
    runs an event loop (then on a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=timeout + 5)

"""The HTTP client against a real local server: deadlines, size caps, redirects, validators."""

from __future__ import annotations

import asyncio
import gzip
import resource
import time
import zlib

import pytest

from monitor.config import HttpConfig
from monitor.demo.server import Reply
from monitor.errors import FetchError
from monitor.schedule import retry_after_seconds
from monitor.sources.http import HttpClient


def fetch(url: str, **config) -> object:
    async def go():
        async with HttpClient(HttpConfig(**config)) as client:
            return await client.get(url)

    return asyncio.run(go())


def test_trickling_server_is_cut_off_at_the_total_deadline(server):
    def trickle(_request):
        def body():
            for _ in range(100):
                yield b"<"
                time.sleep(0.5)
        return Reply(200, {"Content-Type": "application/rss+xml"}, body())

    url = server.route("/slow.xml", trickle)
    started = time.monotonic()
    with pytest.raises(FetchError, match="no complete response within 2 s"):
        fetch(url, timeout=2.0)
    assert time.monotonic() - started < 4


def test_headers_that_never_arrive_hit_the_deadline(server):
    url = server.route("/hang.xml", lambda _r: Reply(200, {}, b"x", delay=5))
    started = time.monotonic()
    with pytest.raises(FetchError, match="no complete response|timed out"):
        fetch(url, timeout=1.0)
    assert time.monotonic() - started < 3


def test_gzip_bomb_is_refused_at_the_cap_with_flat_memory(server):
    bomb = gzip.compress(b"\0" * 400_000_000, compresslevel=9)  # ~400 KB on the wire, 400 MB inflated
    assert len(bomb) < 1_000_000
    url = server.route("/bomb.xml", lambda _r: Reply(200, {"Content-Encoding": "gzip",
                                                          "Content-Type": "application/rss+xml"}, bomb))
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(FetchError, match="larger than the 5,000,000-byte limit"):
        fetch(url, max_bytes=5_000_000)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kb < 100_000  # far below the 400 MB the bomb would inflate to


def test_deflate_with_and_without_zlib_header_is_decoded(server):
    text = b"<rss version='2.0'><channel><title>x</title></channel></rss>"
    raw = zlib.compressobj(wbits=-15)
    raw_body = raw.compress(text) + raw.flush()
    server.route("/z.xml", lambda _r: Reply(200, {"Content-Encoding": "deflate"}, zlib.compress(text)))
    server.route("/raw.xml", lambda _r: Reply(200, {"Content-Encoding": "deflate"}, raw_body))
    assert fetch(server.url("/z.xml")).body == text
    assert fetch(server.url("/raw.xml")).body == text


def test_oversized_body_is_refused(server):
    url = server.route("/big.xml", lambda _r: Reply(200, {}, b"x" * 3_000_000))
    with pytest.raises(FetchError, match="larger than"):
        fetch(url, max_bytes=1_000_000)

    def chunked(_r):  # no Content-Length: counted as it streams
        return Reply(200, {}, (b"x" * 100_000 for _ in range(30)))

    url = server.route("/big-chunked.xml", chunked)
    with pytest.raises(FetchError, match="larger than the 1,000,000-byte limit"):
        fetch(url, max_bytes=1_000_000)


def test_permanent_and_temporary_redirects(server):
    server.route("/final.xml", lambda _r: Reply(200, {}, b"<rss/>"))
    server.route("/moved.xml", lambda _r: Reply(301, {"Location": "/final.xml"}))
    server.route("/temp.xml", lambda _r: Reply(302, {"Location": "/final.xml"}))
    server.route("/chain.xml", lambda _r: Reply(308, {"Location": "/temp.xml"}))
    moved = fetch(server.url("/moved.xml"))
    assert moved.permanent_url == server.url("/final.xml") and moved.url == server.url("/final.xml")
    assert fetch(server.url("/temp.xml")).permanent_url is None
    assert fetch(server.url("/chain.xml")).permanent_url is None  # a temporary hop on the way


def test_error_statuses_carry_status_and_retry_after(server):
    server.route("/busy.xml", lambda _r: Reply(429, {"Retry-After": "120"}, b"slow down"))
    server.route("/gone.xml", lambda _r: Reply(410, {}, b""))
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/busy.xml"))
    assert caught.value.status == 429 and caught.value.retry_after == 120
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/gone.xml"))
    assert caught.value.status == 410 and "Gone" in str(caught.value)


def test_user_agent_is_sent(server):
    server.route("/ua.xml", lambda _r: Reply(200, {}, b"ok"))
    fetch(server.url("/ua.xml"), user_agent="monitor-test/1 (+mailto:x@example.org)")
    assert server.requests_to("/ua.xml")[0].headers["user-agent"] == "monitor-test/1 (+mailto:x@example.org)"


def test_retry_after_parsing():
    from datetime import datetime, timezone

    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("4") == 4.0
    assert retry_after_seconds("Sat, 28 Nov 2026 12:01:00 GMT", now) == 60.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None

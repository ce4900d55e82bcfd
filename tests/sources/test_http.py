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


# --- what the API collectors need: params, JSON POST, rate-limit waits, credentials ---------


def test_rate_limit_waits_come_from_retry_after_or_the_windows_reset():
    from datetime import datetime, timezone

    from monitor.schedule import rate_limit_wait

    now = datetime(2026, 3, 12, 9, 0, tzinfo=timezone.utc)
    assert rate_limit_wait({"Retry-After": "120", "X-RateLimit-Reset": "2026-03-12T10:00:00Z"}, now) == 120
    assert rate_limit_wait({"X-RateLimit-Reset": "2026-03-12T09:05:00.000000Z"}, now) == 300  # Mastodon: a time
    assert rate_limit_wait({"RateLimit-Reset": str(int(now.timestamp()) + 90)}, now) == 90  # Bluesky: epoch seconds
    assert rate_limit_wait({"RateLimit-Reset": "30"}, now) == 30  # the IETF draft: seconds from now
    assert rate_limit_wait({"X-RateLimit-Reset": "soon"}, now) is None
    assert rate_limit_wait({}, now) is None


def test_429_without_retry_after_waits_for_the_rate_limit_reset(server):
    from datetime import datetime, timedelta, timezone

    reset = (datetime.now(timezone.utc) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    url = server.route("/api", lambda _r: Reply(429, {"Content-Type": "application/json", "X-RateLimit-Reset": reset},
                                                b'{"error": "Too many requests"}'))
    with pytest.raises(FetchError) as caught:
        fetch(url)
    assert caught.value.status == 429 and 590 <= caught.value.retry_after <= 600
    assert caught.value.body == b'{"error": "Too many requests"}'  # the API's own explanation, kept


def test_query_parameters_are_added_and_encoded_once(server):
    from monitor.sources.http import with_params

    url = server.route("/search", lambda r: Reply(200, {"Content-Type": "text/plain"}, r.query.encode()))

    async def go():
        async with HttpClient(HttpConfig()) as client:
            return await client.get(url + "?fixed=1", params={"q": '"Online Safety Act" & more', "n": 2,
                                                             "flag": True, "skip": None})

    response = asyncio.run(go())
    assert response.body == b"fixed=1&q=%22Online+Safety+Act%22+%26+more&n=2&flag=true"
    assert with_params("https://a.test/x", {}) == "https://a.test/x"


def test_credentials_never_follow_a_redirect_to_another_host(server):
    from monitor.demo.server import LocalServer

    with LocalServer() as other:
        other.route("/landing", lambda r: Reply(200, {"Content-Type": "text/plain"}, b"ok"))
        server.route("/same", lambda r: Reply(302, {"Location": "/final"}))
        server.route("/final", lambda r: Reply(200, {"Content-Type": "text/plain"}, b"ok"))
        away = server.route("/away", lambda r: Reply(301, {"Location": other.url("/landing")}))

        async def go(url):
            async with HttpClient(HttpConfig()) as client:
                return await client.get(url, extra_headers={"Authorization": "Bearer secret-token"})

        asyncio.run(go(server.url("/same")))
        asyncio.run(go(away))
        (final,) = server.requests_to("/final")
        assert final.headers["authorization"] == "Bearer secret-token"  # same host: still sent
        (landing,) = other.requests_to("/landing")
        assert "authorization" not in landing.headers


def test_post_json_sends_json_and_does_not_follow_redirects(server):
    import json

    url = server.route("/login", lambda r: Reply(200, {"Content-Type": "application/json"}, r.body))
    moved = server.route("/moved", lambda r: Reply(307, {"Location": "/login"}))

    async def go(target):
        async with HttpClient(HttpConfig()) as client:
            return await client.post_json(target, {"identifier": "a", "password": "b"})

    response = asyncio.run(go(url))
    assert json.loads(response.body) == {"identifier": "a", "password": "b"}
    (sent,) = server.requests_to("/login")
    assert sent.method == "POST" and sent.headers["content-type"] == "application/json"
    with pytest.raises(FetchError) as caught:
        asyncio.run(go(moved))
    assert caught.value.status == 307 and len(server.requests_to("/login")) == 1

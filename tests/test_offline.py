"""The test suite cannot reach the internet: connections beyond loopback are refused."""

from __future__ import annotations

import socket

import pytest

from monitor.demo.server import LocalServer, static


def test_a_connection_beyond_loopback_is_refused_at_once():
    with pytest.raises(OSError, match="never reach beyond 127.0.0.1: blocked a connection to 192.0.2.1"):
        socket.create_connection(("192.0.2.1", 80), timeout=5)  # TEST-NET-1: never routed anyway


def test_loopback_servers_still_answer():
    with LocalServer() as server:
        url = server.route("/ok", static(b"ok"))
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /ok HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.")

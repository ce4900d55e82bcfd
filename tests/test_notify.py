"""sd_notify: messages arrive on path and abstract sockets, one line each, never block;
nothing happens without NOTIFY_SOCKET."""

from __future__ import annotations

import os
import socket

from monitor.notify import Notifier, socket_address, watchdog_interval
from tests.servicetools import NotifySocket, wait_until


def test_messages_reach_a_path_socket_and_an_abstract_one(tmp_path):
    for where in (tmp_path / "notify.sock", None):
        with NotifySocket(where) as listener:
            notifier = Notifier(environ={"NOTIFY_SOCKET": listener.name})
            assert notifier.ready("started; 3 sources")
            assert notifier.watchdog()
            assert notifier.status("last poll: 3 ok")
            assert notifier.stopping()
            wait_until(lambda: len(listener.messages) == 4, 5, "four datagrams")
            notifier.close()
        assert listener.messages == [{"READY": "1", "STATUS": "started; 3 sources"}, {"WATCHDOG": "1"},
                                     {"STATUS": "last poll: 3 ok"}, {"STOPPING": "1"}]


def test_a_status_made_of_collected_text_stays_one_status_line():
    with NotifySocket() as listener:
        notifier = Notifier(listener.name)
        notifier.status("Headline\nWATCHDOG=1\r\nREADY=1 \x00 end")
        wait_until(lambda: listener.messages, 5, "a datagram")
    assert listener.messages == [{"STATUS": "Headline WATCHDOG=1 READY=1 end"}]


def test_without_notify_socket_nothing_is_sent_and_nothing_fails():
    notifier = Notifier(environ={})
    assert not notifier.enabled
    assert notifier.ready() is False and notifier.watchdog() is False


def test_a_vanished_or_full_socket_never_blocks_or_raises(tmp_path, caplog):
    notifier = Notifier(str(tmp_path / "gone.sock"))
    assert notifier.watchdog() is False and notifier.watchdog() is False
    assert len([r for r in caplog.records if "cannot notify systemd" in r.getMessage()]) == 1  # logged once
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(tmp_path / "full.sock"))
    notifier = Notifier(str(tmp_path / "full.sock"))
    sent = [notifier.status("x" * 300) for _ in range(5000)]  # nobody reads: the queue fills up
    assert sent[0] is True and sent[-1] is False  # dropped, not blocked
    receiver.close()


def test_watchdog_interval_follows_systemds_rules():
    assert watchdog_interval({"WATCHDOG_USEC": "120000000"}) == 120.0
    assert watchdog_interval({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": str(os.getpid())}) == 120.0
    assert watchdog_interval({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": "1"}) is None  # meant for another
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval({}) is None
    assert socket_address("@name") == b"\0name"
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("") is None

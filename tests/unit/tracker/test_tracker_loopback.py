"""Loopback means an IP address in 127.0.0.0/8 or ::1, checked after name resolution (issue #15): a name that
merely starts with "127." is not loopback, so it cannot skip the token check."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simulator.errors import InputError
from simulator.netbind import is_loopback_ip, loopback_only
from simulator.tracker.security import is_loopback
from simulator.tracker.server import make_server
from simulator.tracker.service import TrackerService


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host):
    assert is_loopback(host) and loopback_only(host)


@pytest.mark.parametrize("host", ["127.invalid", "127.0.0.1.invalid", "0.0.0.0", "10.0.0.1", "::", "", "127."])
def test_not_loopback(host):
    assert not is_loopback(host)


def test_mapped_ipv4_loopback_counts_and_others_do_not():
    assert is_loopback_ip("::ffff:127.0.0.1") and not is_loopback_ip("::ffff:10.0.0.1") and not is_loopback_ip("x")


def test_a_name_that_starts_with_127_needs_a_token(tmp_path):
    with pytest.raises(InputError, match="needs an API token"):
        make_server(TrackerService(tmp_path / "t.db"), host="127.invalid")


def test_tracker_serve_on_a_fake_loopback_name_is_one_line_exit_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "simulator", "tracker", "serve", "--host", "127.invalid",
                           "--port", "0", "--db", str(tmp_path / "t.db")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "token" in done.stderr

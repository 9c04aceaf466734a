"""``free_port``: a port a child binds itself, picked where no outgoing connection takes it meanwhile."""

from __future__ import annotations

import socket

from simulator import netbind


def test_a_free_port_is_below_the_ephemeral_range_and_bindable() -> None:
    low = netbind._ephemeral_low()
    ports = {netbind.free_port() for _ in range(20)}
    assert all(netbind.QUIET_PORTS[0] <= p < min(low, netbind.QUIET_PORTS[1] + 1) for p in ports), (ports, low)
    assert len(ports) > 1  # random, not one fixed port every child would race for
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


def test_a_taken_port_is_never_given() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", netbind.free_port()))  # a port in the quiet range, held
        held.listen()
        taken = held.getsockname()[1]
        port = netbind.free_port(quiet=(taken, taken))  # the quiet range holds only the taken port
        assert port != taken

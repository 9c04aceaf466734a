"""Entry point inside a target container: run a bundled app listening on the container's interfaces.

The apps bind 127.0.0.1 (on the host that is the only address gameday serves on). Inside a
container, 127.0.0.1 is the container's own loopback, which a published port cannot reach; so
this entry binds the app to all of the *container's* interfaces. Outside, the port is published on
the host's 127.0.0.1 only, and the run's network is a private bridge: nothing beyond the host
sees it. Dependencies are reached through loopback relays named in ``$GAMEDAY_RELAYS``.
``python -m simulator.targets.backends.docker_entry APP [app arguments...]``.
"""

from __future__ import annotations

import os
import runpy
import sys

from simulator.targets.apps.common import server
from simulator.targets.backends.docker_relay import Relay

RELAYS_ENV = "GAMEDAY_RELAYS"  # "LISTEN_PORT=HOST:PORT,...": loopback relays to the host (see docker_relay)


def main() -> None:
    if len(sys.argv) < 2:
        print("usage: python -m simulator.targets.backends.docker_entry APP [--port N ...]", file=sys.stderr)
        raise SystemExit(2)
    relays = [r for r in os.environ.get(RELAYS_ENV, "").split(",") if r]
    if relays:
        relay = Relay()
        for item in relays:
            listen, _, upstream = item.partition("=")
            host, _, port = upstream.rpartition(":")
            relay.add("127.0.0.1", int(port), host, listen_port=int(listen))
    server.HOST = "0.0.0.0"  # the container's interfaces; published on the host's 127.0.0.1 only  # noqa: S104
    app = sys.argv[1]
    sys.argv = [f"simulator.targets.apps.{app}", *sys.argv[2:]]
    runpy.run_module(f"simulator.targets.apps.{app}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()

"""``python -m simulator.proxy --control-port PORT [--seed N] [--config FILE]``

Prints ``{"event": "listening", "port": N, "pid": P}`` on stdout once the control API is ready;
stops cleanly on SIGTERM or SIGINT. Errors are one line on stderr with exit code 2 (bad input) or
3 (environment, e.g. the control port is taken).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import resource
import signal
import sys

from simulator.errors import GamedayError
from simulator.procs import announce
from simulator.proxy.runtime import LOOPS, RELAYS, ProxyService, load_config, loop_factory


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.proxy",
        description="gameday's TCP fault proxy (Toxiproxy-like), controlled over HTTP on 127.0.0.1",
    )
    parser.add_argument("--control-port", type=int, default=0, help="control API port on 127.0.0.1 (0 = pick)")
    parser.add_argument("--seed", type=int, default=None, help="seed for toxicity draws, jitter and slicing")
    parser.add_argument("--loop", choices=LOOPS, default="auto",
                        help="event loop: uvloop if installed (auto), or force one (default: auto)")
    parser.add_argument("--relay", choices=RELAYS, default="splice",
                        help="splice: zero-copy in the kernel while no toxic applies (Linux); copy: always through "
                             "Python (default: splice)")
    parser.add_argument("--config", default=None, help="JSON or YAML list of proxies to create at start")
    return parser


async def _run(service: ProxyService) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.request_stop)

    await service.run(on_ready=announce)


def _more_files() -> None:
    """Raise the open-files limit to the hard limit: each connection holds 2 sockets, and up to 2 relays of
    4 descriptors each (``relay.py``), so a soft limit of 1024 would refuse connections at about a hundred."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _more_files()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="proxy: %(levelname)s %(message)s")
    try:
        proxies = load_config(args.config) if args.config else []
        with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
            runner.run(_run(ProxyService(args.control_port, args.seed, proxies, relay=args.relay)))
    except GamedayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Resource hogs for the process fault family: ``python -m simulator.faults.hog cpu|memory ...``.

Each hog carries a marker (``--marker gameday-hog:<run-id>``) in its command line so cleanup can
find it, and a lifetime (``--seconds``) after which it exits by itself: even a hog whose run and
cleanup both vanished does not burn the machine forever.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time


def cpu(seconds: float) -> None:
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        for _ in range(100_000):
            x = (x * 31 + 7) % 1_000_003


def memory(size: int, seconds: float) -> None:
    block = bytearray(size)
    for i in range(0, size, 4096):  # touch every page so it is resident, not just reserved
        block[i] = 1
    print("allocated", flush=True)
    time.sleep(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.faults.hog")
    parser.add_argument("what", choices=["cpu", "memory"])
    parser.add_argument("--bytes", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--marker", default="gameday-hog")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.what == "cpu":
        cpu(args.seconds)
    else:
        memory(args.bytes, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

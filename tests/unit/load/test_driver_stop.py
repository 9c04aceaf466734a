"""Stopping Locust: a Ctrl-C it never took is sent again, and one it took is not sent twice (a second one would
cut its final CSVs short). A stand-in process plays Locust's part: it signals nothing but its exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from simulator.load.driver import LoadDriver

STAND_IN = r"""
import pathlib, signal, sys, time
log, took = pathlib.Path(sys.argv[1]), sys.argv[2] == "took"
seen = []

def on_sigint(*_):
    seen.append(1)
    if len(seen) == 1 and not took:
        return  # the first Ctrl-C is lost: nothing logged, nothing done
    if len(seen) == 1:
        with log.open("a") as fh:
            fh.write("[..] vm/INFO/root: Exiting due to CTRL+C interruption\n")
        return
    sys.exit(3 if took else 0)  # a second Ctrl-C: right when the first was lost, wrong when it was taken

signal.signal(signal.SIGINT, on_sigint)
print("ready", flush=True)
end = time.monotonic() + 60
while time.monotonic() < end:
    if took and seen:
        time.sleep(4.0)  # writing its final CSVs, longer than the driver waits before it would send another
        sys.exit(0)
    time.sleep(0.02)
sys.exit(4)
"""


def _stop_stand_in(tmp_path: Path, took: str) -> int | None:
    driver = LoadDriver("http://127.0.0.1:9", "ping", run_dir=tmp_path, stop_timeout=15.0)
    driver.log_path.parent.mkdir(parents=True, exist_ok=True)
    driver.log_path.write_text("$ python -m locust ...\n")
    proc = subprocess.Popen([sys.executable, "-c", STAND_IN, str(driver.log_path), took], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    driver._master = proc  # the driver's own Locust process, as start() sets it
    try:
        return driver.stop()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_ctrl_c_locust_never_took_is_sent_again(tmp_path: Path) -> None:
    # exit 0 only on a second SIGINT; without one the driver ends it with SIGTERM after 15 s (-15)
    assert _stop_stand_in(tmp_path, "lost") == 0


def test_a_ctrl_c_locust_took_is_not_sent_twice(tmp_path: Path) -> None:
    # exit 3 on a second SIGINT while it finishes; 0 when left to finish
    assert _stop_stand_in(tmp_path, "took") == 0

"""A process is named by pid and start time; a clock step between recording and reading must not lose it.

gameday records ``start_time`` (seconds after boot, from /proc/<pid>/stat), which no wall-clock step moves; run
folders written before hold psutil's epoch start time, which every step moves, and are still read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest
from psutil import _pslinux

from simulator.procs import (
    CLOCK_STEP_LIMIT,
    EPOCH_FLOOR,
    same_epoch_start,
    same_process,
    start_time,
    started_since,
    stop_process,
)


def test_an_epoch_start_time_or_whole_seconds_off_by_a_clock_step() -> None:
    assert same_epoch_start(1000.00, 1000.00) and same_epoch_start(1000.004, 1000.00)
    assert same_epoch_start(1001.00, 1000.00) and same_epoch_start(998.00, 1000.00)  # btime moved by whole seconds
    assert not same_epoch_start(997.00, 1000.00) and not same_epoch_start(900.00, 1000.00)  # another, seconds apart
    assert not same_epoch_start(1000.50, 1000.00)  # another process: started half a second later
    assert not same_epoch_start(1000.03, 1000.00)  # three clock ticks later
    assert not same_epoch_start(1000.00 + CLOCK_STEP_LIMIT + 1, 1000.00)  # not a clock step: far too long ago


def test_the_start_time_is_seconds_after_boot_and_names_one_process() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = start_time(child.pid)
        uptime = time.clock_gettime(time.CLOCK_BOOTTIME)
        assert 0 < started <= uptime < EPOCH_FLOOR  # after boot, and read as such
        assert started >= start_time(os.getpid())  # started after us
        # the same instant psutil reads, before it adds the boot time
        assert psutil.Process(child.pid).create_time() - _pslinux.boot_time() == pytest.approx(started, abs=0.011)
        assert same_process(child.pid, started) is not None
        assert same_process(child.pid, started + 0.02) is None  # two clock ticks off: another process
        proc = psutil.Process(child.pid)
        assert started_since(proc, started) and not started_since(proc, started + 0.5)
    finally:
        child.kill()
        child.wait()
    with pytest.raises(psutil.NoSuchProcess):
        start_time(child.pid)
    assert same_process(child.pid, started) is None and not stop_process(child.pid, started)


@pytest.mark.parametrize("step", [1.0, -2.0, 7.0, -3600.0])
def test_our_process_is_still_ours_after_the_clock_stepped(monkeypatch: pytest.MonkeyPatch, step: float) -> None:
    # a run's teardown once left its supervisor and targets running: the VM's clock had stepped by more than the
    # whole-second flips the epoch comparison allows, so no recorded process matched itself any more
    recorded = start_time(os.getpid())
    epoch = psutil.Process(os.getpid()).create_time()
    boot = _pslinux.boot_time()
    monkeypatch.setattr(_pslinux, "boot_time", lambda: boot + step)  # the clock stepped: btime moved
    assert psutil.Process(os.getpid()).create_time() == pytest.approx(epoch + step)
    assert start_time(os.getpid()) == recorded  # what gameday records does not move
    found = same_process(os.getpid(), recorded)
    assert found is not None and found.pid == os.getpid()
    assert same_process(os.getpid(), recorded + 0.5) is None  # still not a different start time
    # a folder written before (an epoch start time) still names it across a whole-second flip, not beyond
    assert (same_process(os.getpid(), epoch) is not None) == (abs(step) <= CLOCK_STEP_LIMIT)

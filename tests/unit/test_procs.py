"""A process is named by pid and start time; a clock step between recording and reading must not lose it."""

from __future__ import annotations

import os

import psutil
import pytest
from psutil import _pslinux

from simulator.procs import CLOCK_STEP_LIMIT, same_process, same_start


def test_the_same_start_time_or_whole_seconds_off_by_a_clock_step() -> None:
    assert same_start(1000.00, 1000.00) and same_start(1000.004, 1000.00)
    assert same_start(1001.00, 1000.00) and same_start(998.00, 1000.00)  # the boot time moved by whole seconds
    assert not same_start(997.00, 1000.00) and not same_start(900.00, 1000.00)  # another process, seconds apart
    assert not same_start(1000.50, 1000.00)  # another process: started half a second later
    assert not same_start(1000.03, 1000.00)  # three clock ticks later
    assert not same_start(1000.00 + CLOCK_STEP_LIMIT + 1, 1000.00)  # not a clock step: far too long ago


@pytest.mark.parametrize("step", [1.0, -2.0])
def test_our_process_is_still_ours_after_the_clock_stepped(monkeypatch: pytest.MonkeyPatch, step: float) -> None:
    me = psutil.Process(os.getpid())
    recorded = me.create_time()
    boot = _pslinux.boot_time()
    monkeypatch.setattr(_pslinux, "boot_time", lambda: boot + step)  # NTP stepped the clock: btime moved
    assert psutil.Process(os.getpid()).create_time() == pytest.approx(recorded + step)
    found = same_process(os.getpid(), recorded)
    assert found is not None and found.pid == os.getpid()
    assert same_process(os.getpid(), recorded + 0.5) is None  # still not a different start time

"""A CPU limit on the local backend is the kernel's: a busy process in a 0.2-CPU group gets about 0.2 of a core,
and the kernel says it throttled it."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from simulator.procs import spawn, stop_process
from simulator.targets import cpulimit

FOUND = cpulimit.controller()
WHY = cpulimit.problem(FOUND)


def test_the_mounts_are_read_for_the_cpu_controller(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text("cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
                      "cgroup /x/cpu cgroup rw,relatime,cpu 0 0\n")
    assert cpulimit.controller(mounts) == cpulimit.Controller(Path("/x/cpu"), 1)
    mounts.write_text("cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n")
    assert cpulimit.controller(mounts) is None
    assert cpulimit.controller(tmp_path / "absent") is None


@pytest.mark.skipif(WHY is not None, reason=f"no CPU limit here: {WHY}")
def test_a_busy_process_in_a_limited_group_gets_its_share_and_is_throttled(tmp_path: Path) -> None:
    assert FOUND is not None
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    leaf = cpulimit.create(run_id, "auth", 0.2, FOUND)
    proc = spawn([sys.executable, "-c", "while True: pass"], tmp_path / "busy.log", cgroup=leaf)
    try:
        assert proc.pid in cpulimit.members(leaf)
        p = psutil.Process(proc.pid)
        time.sleep(0.3)
        before, start = sum(p.cpu_times()[:2]), time.monotonic()
        time.sleep(2.0)
        used = (sum(p.cpu_times()[:2]) - before) / (time.monotonic() - start)
        assert used <= 0.3, f"{used:.2f} of a core with a 0.2 CPU limit"
        assert cpulimit.throttled(leaf) > 0
        cpulimit.set_limit(leaf, None, cpulimit.version_of(leaf))  # scale it back up: no limit
        throttled = cpulimit.throttled(leaf)
        time.sleep(1.0)
        assert cpulimit.throttled(leaf) == throttled  # no longer throttled
        assert not cpulimit.remove(leaf)  # still in use: it stays
    finally:
        stop_process(proc.pid, psutil.Process(proc.pid).create_time(), grace=1.0)
        proc.wait(5)
    assert cpulimit.remove_run(run_id, FOUND) == 1
    assert not FOUND.group(run_id).exists()

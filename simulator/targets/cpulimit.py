"""A CPU limit for a target's processes on the local backend (``targets[].cpus``, ``scale:<t>.cpus=N``).

The kernel's CFS bandwidth control, the mechanism behind ``docker run --cpus``: each limited target gets a
cgroup of its own, ``gameday/<run_id>/<target>`` under the machine's cpu controller (cgroup v2 ``cpu.max``, or
v1 ``cpu.cfs_quota_us`` where the cpu controller is mounted on its own, as on hybrid hosts), whose quota is
``cpus`` x the period. A process joins its group between fork and exec (``procs.spawn(cgroup=...)``), so
everything it starts is limited too, a restart included. The group goes when the target stops (``remove``), and
``gameday cleanup`` removes what a killed run left (``remove_run``); groups hold no state a run needs.

Creating cgroups needs write access to the controller (root, or a delegated subtree). Where there is none,
``problem()`` says so in one line and the run refuses ``cpus`` on the local backend before anything starts.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

PERIOD_US = 100_000  # the CFS period docker uses too: 100 ms
MOUNTS = Path("/proc/self/mounts")
GROUP = "gameday"


@dataclass(frozen=True)
class Controller:
    root: Path  # where the hierarchy carrying the cpu controller is mounted
    version: int  # 1 or 2

    def group(self, run_id: str, target: str | None = None) -> Path:
        base = self.root / GROUP / run_id
        return base if target is None else base / target


def controller(mounts: Path = MOUNTS) -> Controller | None:
    """The hierarchy carrying the cpu controller: cgroup v2 when it has it, else v1's cpu mount; None if neither."""
    v1: Controller | None = None
    try:
        lines = mounts.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) < 4:
            continue
        where, fstype, options = Path(parts[1]), parts[2], parts[3].split(",")
        if fstype == "cgroup2":
            with contextlib.suppress(OSError):
                if "cpu" in (where / "cgroup.controllers").read_text().split():
                    return Controller(where, 2)
        elif fstype == "cgroup" and "cpu" in options and v1 is None:
            v1 = Controller(where, 1)
    return v1


def problem(found: Controller | None = None) -> str | None:
    """Why a CPU limit cannot be set on this machine (one line), or None if it can."""
    found = found or controller()
    if found is None:
        return "this machine has no cgroup cpu controller mounted"
    if not os.access(found.root / GROUP if (found.root / GROUP).exists() else found.root, os.W_OK):
        return (f"creating cgroups under {found.root} needs root (or a delegated cgroup): run as root or "
                "with --backend docker")
    return None


def _write(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def create(run_id: str, target: str, cpus: float, found: Controller | None = None) -> Path:
    """The target's group with its quota set (created if needed); ``OSError`` if the kernel refuses."""
    found = found or controller()
    if found is None:
        raise OSError("no cgroup cpu controller")
    leaf = found.group(run_id, target)
    if found.version == 2:  # the cpu controller must be enabled in every ancestor's subtree
        node = found.root
        for part in (GROUP, run_id, target):
            with contextlib.suppress(OSError):
                _write(node / "cgroup.subtree_control", "+cpu")
            node = node / part
            node.mkdir(exist_ok=True)
    else:
        leaf.mkdir(parents=True, exist_ok=True)
    set_limit(leaf, cpus, found.version)
    return leaf


def existing(run_id: str, name: str, found: Controller | None = None) -> Path | None:
    """The group of a run's instance if the supervisor made one (the instance has, or had, a limit), else None."""
    found = found or controller()
    leaf = found.group(run_id, name) if found is not None else None
    return leaf if leaf is not None and leaf.is_dir() else None


def set_limit(leaf: Path, cpus: float | None, version: int) -> None:
    """``cpus`` CPUs' worth of each period (None: no limit)."""
    quota = None if not cpus else max(1000, int(round(cpus * PERIOD_US)))
    if version == 2:
        _write(leaf / "cpu.max", f"{quota if quota else 'max'} {PERIOD_US}")
    else:
        _write(leaf / "cpu.cfs_period_us", str(PERIOD_US))
        _write(leaf / "cpu.cfs_quota_us", str(quota if quota else -1))


def version_of(leaf: Path) -> int:
    return 2 if (leaf / "cpu.max").exists() else 1


def throttled(leaf: Path) -> int:
    """How many periods the kernel has throttled the group so far (``cpu.stat`` nr_throttled)."""
    with contextlib.suppress(OSError, ValueError):
        for line in (leaf / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "nr_throttled":
                return int(value)
    return 0


def members(leaf: Path) -> list[int]:
    with contextlib.suppress(OSError, ValueError):
        return [int(p) for p in (leaf / "cgroup.procs").read_text().split()]
    return []


def remove(leaf: Path) -> bool:
    """Remove an empty group (its processes stopped); False if it is still in use or already gone."""
    try:
        leaf.rmdir()
        return True
    except OSError:
        return False


def remove_run(run_id: str, found: Controller | None = None) -> int:
    """Remove the groups a run left (after its processes are stopped): how many went."""
    found = found or controller()
    if found is None or not run_id or "/" in run_id or run_id in (".", ".."):
        return 0
    base = found.group(run_id)
    if not base.is_dir():
        return 0
    gone = sum(remove(leaf) for leaf in base.iterdir() if leaf.is_dir())
    remove(base)
    return gone


class Groups:
    """A run's CPU-limit groups, by instance name (``auth``, ``auth.standby``): the local supervisor's."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.limits: dict[str, float | None] = {}  # set at run time (``scale:<t>.cpus=N``), over the spec's
        self.leaves: dict[str, Path] = {}
        self._found: Controller | None = None  # the machine's controller, read with the first limited process

    def _create(self, name: str, cpus: float) -> Path:
        self._found = self._found or controller()
        self.leaves[name] = create(self.run_id, name, cpus, self._found)
        return self.leaves[name]

    def leaf(self, name: str, cpus: float | None) -> Path | None:
        """The group a new process of ``name`` joins (created with its limit), or None when it has no limit."""
        cpus = self.limits.get(name, cpus)
        if name not in self.leaves and cpus:
            self._create(name, cpus)
        return self.leaves.get(name)

    def set(self, name: str, cpus: float | None, pids: list[int]) -> None:
        """A new limit for ``name`` (None: none); ``pids``, its running processes, join a group made now."""
        self.limits[name] = cpus
        leaf = self.leaves.get(name)
        if leaf is not None:
            set_limit(leaf, cpus, version_of(leaf))
        elif cpus:
            leaf = self._create(name, cpus)
            for pid in pids:
                with contextlib.suppress(OSError):  # gone meanwhile
                    _write(leaf / "cgroup.procs", str(pid))

    def close(self) -> None:
        """Remove the groups (their processes stopped)."""
        if self._found is None:  # nothing was ever limited: no group to remove
            return
        for leaf in self.leaves.values():
            remove(leaf)
        remove_run(self.run_id, self._found)

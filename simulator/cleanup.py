"""``gameday cleanup``: undo what a killed run left behind. Running it twice is harmless.

For each run: revert every fault still open in its ledger (newest first) while its targets are
still up, kill any resource hog carrying the run's marker, stop its targets through the backend,
and drop it from the registry. Without ``--run`` or ``--all`` it only touches runs whose owning
process is gone (a ``kill -9``ed ``gameday run``), never a live run or a manual ``targets up``.
``--all`` skips (and names) live runs another checkout started; ``--run`` naming one tears it down.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from simulator.errors import InputError
from simulator.faults.engine import FaultEngine
from simulator.faults.ledger import Entry, Ledger
from simulator.journal import Journal
from simulator.procs import same_process, start_time, stop_process
from simulator.rundir import RunDir
from simulator.runs import RunRecord, active_runs, find_run, foreign_live, gameday_home, owner_alive, unregister
from simulator.targets.backends import get_backend
from simulator.targets.backends.docker import sweep_orphans
from simulator.targets.processes import started_beside
from simulator.targets.view import TargetsView


@dataclass
class CleanupResult:
    run_id: str
    run_dir: str
    reverted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hogs_killed: int = 0
    monitors_stopped: int = 0  # the Prometheus and Alertmanager of a --monitor prometheus run
    targets_stopped: bool = False
    skipped: str = ""  # why this run was left alone (another checkout's live run, under --all)


def _targets_alive(view: TargetsView) -> bool:
    sup = view.data.get("supervisor") or {}
    return same_process(sup.get("pid", -1), sup.get("create_time")) is not None


def stop_plane(run_dir: Path) -> int:
    """The Prometheus and Alertmanager a ``--monitor prometheus`` run started, if still alive."""
    if not RunDir(run_dir).plane_json.exists():
        return 0
    from simulator.monitor.prometheus.plane import stop_leftovers
    return stop_leftovers(run_dir)


def kill_hogs(run_id: str) -> int:
    killed = 0
    for p in started_beside(run_id):
        with contextlib.suppress(psutil.Error):
            killed += stop_process(p.pid, start_time(p.pid), 2.0)
    return killed


def cleanup_run(run_dir: Path, run_id: str | None = None) -> CleanupResult:
    run_dir = Path(run_dir)
    folder = RunDir(run_dir)
    result = CleanupResult(run_id or run_dir.name, str(run_dir))
    journal = Journal(folder.journal) if run_dir.exists() else None
    try:
        if folder.targets_json.exists():
            view = TargetsView.load(run_dir)
            result.run_id = view.run_id
            if folder.ledger.exists():
                if _targets_alive(view):
                    done, errors = _revert_with_retries(view, journal)
                    result.reverted = [e.id for e in done]
                    result.errors += errors
                else:
                    # the targets died with their supervisor, and their faults with them
                    with Ledger.of_run(run_dir) as ledger:
                        for entry in ledger.open_entries():
                            ledger.mark_reverted(entry.id, "cleanup (targets gone)", time.time())
                            result.reverted.append(entry.id)
            result.hogs_killed = kill_hogs(result.run_id)
            result.targets_stopped = get_backend(view.backend).down(run_dir)
        else:
            result.hogs_killed = kill_hogs(result.run_id)
        result.monitors_stopped = stop_plane(run_dir)
        unregister(result.run_id)
        if journal is not None:
            journal.write("cleanup.done", reverted=result.reverted, errors=result.errors,
                          hogs_killed=result.hogs_killed, monitors_stopped=result.monitors_stopped,
                          targets_stopped=result.targets_stopped)
    finally:
        if journal is not None:
            journal.close()
    return result


#: policy: how many times cleanup tries a revert whose effect is still there (each try already waits up to the
#: engine's REVERT_CHECK_SECONDS for it to take); what still fails stays open in the ledger, for the next cleanup
CLEANUP_ATTEMPTS = 3


def _revert_with_retries(view: TargetsView, journal: Journal | None) -> tuple[list[Entry], list[str]]:
    """Revert every open fault; retry the ones whose revert failed or did not take. The errors are the last
    try's (the ledger keeps those rows ``failed`` with the reason)."""
    engine = FaultEngine(view, journal)
    done: list[Entry] = []
    errors: list[str] = []
    try:
        for attempt in range(CLEANUP_ATTEMPTS):
            if attempt:
                time.sleep(1.0)
            reverted, errors = engine.revert_all(by="cleanup" if not attempt else f"cleanup (try {attempt + 1})")
            done += reverted
            if not errors:
                break
    finally:
        engine.close()
    return done, errors


def _owner_gone(record: RunRecord) -> bool:
    return isinstance(record.owner_pid, int) and record.owner_pid > 0 and not owner_alive(record)


def cleanup(run: str | None = None, everything: bool = False) -> list[CleanupResult]:
    if run is not None:
        folder = RunDir(run)
        if folder.targets_json.exists() or folder.ledger.exists():
            return [cleanup_run(folder.path)]
        record = find_run(run)
        return [cleanup_run(record.path, record.run_id)]
    records = active_runs() if everything else [r for r in active_runs() if _owner_gone(r)]
    skipped = [CleanupResult(r.run_id, r.run_dir, skipped=f"live, started from another checkout "
                             f"({r.checkout or 'unknown'}); name it with --run to tear it down")
               for r in records if foreign_live(r)]
    results = [_cleanup_one(r) for r in records if not foreign_live(r)]
    return results + skipped + sweep_docker({r.run_id for r in active_runs()})


def _cleanup_one(record: RunRecord) -> CleanupResult:
    """One run of many: a damaged folder (a crafted ``targets.json``) is reported, and the others still cleaned."""
    try:
        return cleanup_run(record.path, record.run_id)
    except InputError as exc:
        return CleanupResult(record.run_id, str(record.path), errors=[str(exc)])


def sweep_docker(active: set[str]) -> list[CleanupResult]:
    """Containers and networks labelled with a run of this registry that the registry no longer
    lists (a run killed before it registered, or whose record is gone): removed by label."""
    return [CleanupResult(run_id, "", targets_stopped=bool(removed["containers"] or removed["networks"]))
            for run_id, removed in sweep_orphans(active, str(gameday_home())).items()]

"""Run identity and the registry of live runs.

A run lives in ``<out>/<run-id>/`` (default ``./runs``). While its targets are up, a small
record in ``$GAMEDAY_HOME/active/<run-id>.json`` (default ``~/.local/state/gameday``) points
at that folder, so ``gameday targets status``, ``gameday fault`` and ``gameday cleanup`` find
it from any shell. Records are written atomically; a record whose folder is gone is ignored.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from simulator.bounded import load_json
from simulator.errors import InputError, NotFound


def gameday_home() -> Path:
    env = os.environ.get("GAMEDAY_HOME")
    base = Path(env) if env else Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "gameday"
    base.mkdir(parents=True, exist_ok=True)
    return base


def new_run_id(label: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return f"{stamp}-{label}-{secrets.token_hex(2)}"


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)`` for run records: a pydantic model (a tracker result) as its JSON, else ``str``."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, default=json_default))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return load_json(path)  # bounded: a regular file, size-capped, strict JSON (simulator.bounded)


@dataclass
class RunRecord:
    run_id: str
    run_dir: str
    backend: str
    created: float
    owner_pid: int
    scenario: str = ""

    @property
    def path(self) -> Path:
        return Path(self.run_dir)


def _active_dir() -> Path:
    d = gameday_home() / "active"
    d.mkdir(parents=True, exist_ok=True)
    return d


def register(record: RunRecord) -> None:
    write_json_atomic(_active_dir() / f"{record.run_id}.json", asdict(record))


def unregister(run_id: str) -> None:
    (_active_dir() / f"{run_id}.json").unlink(missing_ok=True)


def active_runs() -> list[RunRecord]:
    records = []
    for f in sorted(_active_dir().glob("*.json")):
        try:
            records.append(RunRecord(**read_json(f)))
        except (ValueError, TypeError, OSError):
            continue
    return records


def find_run(run_id: str | None) -> RunRecord:
    """The run named by ``run_id`` (a prefix is enough), or the only active run."""
    runs = active_runs()
    if run_id:
        matches = [r for r in runs if r.run_id == run_id] or [r for r in runs if r.run_id.startswith(run_id)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"no active run {run_id!r}; active: {', '.join(r.run_id for r in runs) or 'none'}")
        raise InputError(f"run {run_id!r} is ambiguous: {', '.join(r.run_id for r in matches)}")
    if len(runs) == 1:
        return runs[0]
    if not runs:
        raise NotFound("no active run; start targets with 'gameday targets up' or 'gameday run'")
    raise InputError(f"several active runs, pick one with --run: {', '.join(r.run_id for r in runs)}")

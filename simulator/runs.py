"""Run identity and the registry of live runs.

A run lives in ``<out>/<run-id>/`` (default ``./runs``). While its targets are up, a small
record in ``$GAMEDAY_HOME/active/<run-id>.json`` (default ``~/.local/state/gameday``) points
at that folder, so ``gameday targets status``, ``gameday fault`` and ``gameday cleanup`` find
it from any shell. Records are written atomically; a record whose folder is gone is ignored.

The registry is shared by every checkout (clone) of gameday on the machine, so each record says which
checkout started it (``checkout``: the folder holding the ``simulator`` package that registered it) and
whether its runner is alive (``owner_alive``). A command that picks a run by itself (no ``--run``) picks
only among this checkout's runs and runs whose runner is gone: another checkout's *live* run is acted on
only when ``--run`` names it in full (``find_run``).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
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


def this_checkout() -> str:
    """The checkout (clone) this code runs from: the folder holding the ``simulator`` package."""
    return str(Path(__file__).resolve().parent.parent)


@dataclass
class RunRecord:
    run_id: str
    run_dir: str
    backend: str
    created: float
    owner_pid: int
    scenario: str = ""
    #: the checkout that started the run ("" in records written before checkouts were recorded: unknown)
    checkout: str = field(default_factory=this_checkout)

    @property
    def path(self) -> Path:
        return Path(self.run_dir)

    @property
    def ours(self) -> bool:
        """Started from this checkout."""
        return bool(self.checkout) and self.checkout == this_checkout()

    @property
    def live(self) -> bool:
        """Its runner (the process that registered it) is alive."""
        return owner_alive(self)


def owner_alive(record: RunRecord) -> bool:
    """The run's owning process is running (a zombie its parent has not reaped counts as gone; a pid we may not
    look at counts as alive, the safe side)."""
    if isinstance(record.owner_pid, bool) or not isinstance(record.owner_pid, int) or record.owner_pid <= 0:
        return False
    try:
        return psutil.Process(record.owner_pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def foreign_live(record: RunRecord) -> bool:
    """Another checkout's run whose runner is alive: never picked, torn down or acted on unless named."""
    return not record.ours and record.live


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
            data = read_json(f)
            records.append(RunRecord(**{"checkout": "", **data}))
        except (ValueError, TypeError, OSError):
            continue
    return records


def find_run(run_id: str | None) -> RunRecord:
    """The run named by ``run_id`` (a prefix is enough, except for another checkout's live run, which must be
    named in full), or the only active run this checkout may pick by itself (its own, or one whose runner is
    gone)."""
    runs = active_runs()
    if run_id:
        exact = [r for r in runs if r.run_id == run_id]
        matches = exact or [r for r in runs if r.run_id.startswith(run_id)]
        if len(matches) == 1:
            if not exact and foreign_live(matches[0]):
                raise InputError(f"run {matches[0].run_id} is live and belongs to another checkout "
                                 f"({matches[0].checkout or 'unknown'}); name it in full with --run to act on it")
            return matches[0]
        if not matches:
            raise NotFound(f"no active run {run_id!r}; active: {', '.join(r.run_id for r in runs) or 'none'}")
        raise InputError(f"run {run_id!r} is ambiguous: {', '.join(r.run_id for r in matches)}")
    mine = [r for r in runs if not foreign_live(r)]
    others = [r for r in runs if foreign_live(r)]
    if len(mine) == 1:
        return mine[0]
    if not mine:
        if others:
            raise NotFound("no active run of this checkout; live runs of other checkouts (name one with --run to "
                           f"act on it): {', '.join(r.run_id for r in others)}")
        raise NotFound("no active run; start targets with 'gameday targets up' or 'gameday run'")
    raise InputError(f"several active runs, pick one with --run: {', '.join(r.run_id for r in mine)}")

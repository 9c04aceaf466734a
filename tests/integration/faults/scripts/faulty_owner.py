"""A process that owns a run, breaks it, and then waits to be ``kill -9``ed.

    python faulty_owner.py RUN_DIR RUN_ID      (GAMEDAY_HOME from the environment)

Starts payments + gateway under the local backend with itself as the run's owner, injects a
release, a latency toxic, a pause and a CPU hog, prints one JSON line describing them, then
sleeps: it is never going to revert anything. The test kills it with SIGKILL and checks that
``gameday cleanup`` undoes it all.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from simulator.faults.engine import FaultEngine
from simulator.journal import Journal
from simulator.targets.backends.local import LocalBackend
from simulator.targets.spec import specs_from_scenario

FAULTS = [
    ("app.release", "payments", {"version": "v2.4.0-leaky"}),
    ("proxy.latency", "gateway", {"latency": 200}),
    ("process.pause", "payments", {}),
    ("process.cpu_hog", "payments", {"workers": 1}),
]


def main() -> int:
    run_dir, run_id = Path(sys.argv[1]), sys.argv[2]
    specs = [s for s in specs_from_scenario(None) if s["name"] in ("payments", "gateway")]
    view = LocalBackend().up(specs, run_dir, run_id, owner_pid=os.getpid())
    journal = Journal(run_dir / "journal.jsonl")
    engine = FaultEngine(view, journal)
    entries = [engine.inject(kind, target, params) for kind, target, params in FAULTS]
    print(json.dumps({"owner": os.getpid(), "faults": [e.to_json() for e in entries], "targets": view.data}),
          flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    sys.exit(main())

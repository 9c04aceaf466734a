"""The runner's rollback path in miniature: faults inside try/finally, reverted on SIGTERM or Ctrl-C.

    python faulty_until_signal.py RUN_DIR RESULT_JSON

Like ``simulator.run.runner``: SIGINT and SIGTERM raise ``Interrupted``; the ``finally`` ignores further
signals (nothing may interrupt the revert) and calls ``FaultEngine.revert_all``. Prints one JSON
line once the faults are in, writes what revert_all did to RESULT_JSON, and exits 128 + signal.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from simulator.faults.engine import FaultEngine
from simulator.journal import Journal
from simulator.targets.view import TargetsView

FAULTS = [
    ("app.release", "payments", {"version": "v2.4.0-leaky"}),
    ("proxy.latency", "gateway", {"latency": 200}),
    ("process.pause", "auth", {}),
    ("process.cpu_hog", "auth", {"workers": 1}),
]


class Interrupted(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def interrupt(signum: int, _frame: Any) -> None:
    raise Interrupted(signum)


def main() -> int:
    run_dir, result_path = Path(sys.argv[1]), Path(sys.argv[2])
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    journal = Journal(run_dir / "journal.jsonl")
    engine = FaultEngine(TargetsView.load(run_dir), journal)
    code, injected = 0, []
    try:
        for kind, target, params in FAULTS:
            injected.append(engine.inject(kind, target, params).to_json())
        print(json.dumps({"faults": injected}), flush=True)
        while True:
            time.sleep(60)
    except Interrupted as exc:
        code = 128 + exc.signum
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        done, errors = engine.revert_all(by="end")
        result_path.write_text(json.dumps({"reverted": [e.id for e in done], "errors": errors}))
        engine.close()
        journal.close()
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Several openers of one new ledger at once (the runs of a full-scale drill share one): none fails."""

from __future__ import annotations

import threading
from pathlib import Path

from simulator.faults.ledger import Ledger


def test_many_openers_of_a_new_ledger_at_once(tmp_path: Path) -> None:
    errors: list[str] = []
    for n in range(60):
        folder = tmp_path / f"r{n}"
        barrier = threading.Barrier(8)

        def open_it(folder: Path = folder, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                with Ledger.of_run(folder) as ledger:
                    ledger.entries()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(exc))

        threads = [threading.Thread(target=open_it) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []

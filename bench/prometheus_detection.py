"""Detection latency, fault -> firing, of the embedded engine and of a real Prometheus, in the same run.

Each seed scenario runs once with ``--monitor prometheus`` (``bench/run_detection.py``'s cases and run): a real
Prometheus evaluates the scenario's rules exported at the run's time scale, and the embedded engine evaluates
the same rules on the same samples beside it (its shadow, ``alert.embedded``). Per expected alert:

* embedded: fault effective -> the embedded engine fired (wall seconds) -- the baseline;
* Prometheus: fault effective -> the run saw Prometheus' alert firing (polled each monitor interval);
* delivered: fault effective -> the run's tracker received it from Alertmanager;
* the difference Prometheus - embedded, and the ratio.

    PYTHONPATH=. .venv/bin/python bench/prometheus_detection.py [--json] [--scenario NAME ...]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_detection import CASES, arguments, run_case  # noqa: E402 - the sibling bench script


def main() -> int:
    args = arguments()
    with tempfile.TemporaryDirectory(prefix="gameday-bench-") as tmp:
        results = [run_case(name, Path(tmp), monitor="prometheus") for name in args.scenario or list(CASES)]
    if args.json:
        print(json.dumps({"results": results}, indent=2))
        return 0
    for r in results:
        print(f"\n{r['scenario']} (×{r['time_scale']}, outcome {r['outcome']}), fault → firing, wall seconds:")
        print(f"  {'alert':<24} {'embedded':>9} {'Prometheus':>11} {'difference':>11} {'ratio':>6} "
              f"{'in the tracker':>15}")
        for a in r["alerts"]:
            base, prom, got = a.get("embedded_latency_s"), a["latency_s"], a.get("delivered_s")
            diff = "-" if base is None or prom is None else f"{prom - base:+.2f}"
            ratio = "-" if base is None or prom is None or base <= 0 else f"{prom / base:.2f}"
            print(f"  {a['alert']:<24} {_s(base):>9} {_s(prom):>11} {diff:>11} {ratio:>6} {_s(got):>15}")
    return 0


def _s(x: float | None) -> str:
    return "never" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    sys.exit(main())

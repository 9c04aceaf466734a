"""CI checks evaluated on a hand-written run folder (journal, summary, load stats), and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from simulator.drills.checks import evaluate_all
from simulator.drills.junit import junit_xml
from simulator.drills.model import Check


def _event(seq: int, wall: float, game: float, kind: str, **data) -> str:
    return json.dumps({"seq": seq, "wall": wall, "game": game, "kind": kind, "data": data})


def make_run(tmp_path: Path, fivexx_after_flag: int = 0) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    t0 = 1000.0
    ev = [
        _event(1, t0, 0.0, "load.started"),
        _event(2, t0 + 10, 100.0, "fault.injected", id="f1"),
        _event(3, t0 + 12, 120.0, "alert.firing", alertname="LowAvailability", target="payments"),
        _event(4, t0 + 13, 130.0, "steady_state.lost"),
        _event(5, t0 + 20, 200.0, "ops.flag", action="flag:payments.fallback_processor=on"),
        _event(6, t0 + 22, 220.0, "sample", target="payments", status_5xx=3),
        _event(7, t0 + 26, 260.0, "sample", target="payments", status_5xx=fivexx_after_flag),
        _event(8, t0 + 30, 300.0, "steady_state.restored"),
        _event(9, t0 + 40, 400.0, "load.stopped"),
    ]
    (run / "journal.jsonl").write_text("\n".join(ev) + "\n")
    (run / "summary.json").write_text(json.dumps({"scenario": "s", "outcome": "recovered", "time_scale": 10}))
    lines = [{"type": "stats", "t": t0 + 10 + i, "interval_s": 1, "target": "payments", "requests": 10,
              "attempts": 10 + (i % 3), "by_name": {"POST /charges": {"requests": 5, "failures": 0}}}
             for i in range(25)]
    (run / "load-stats.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return run


def test_every_check_type(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    checks = [
        Check(check="alert_fires_within", alert="LowAvailability", within="30s"),
        Check(check="alert_fires_within", alert="LowAvailability", within="1s"),
        Check(check="alert_fires_within", alert="LowAvailability", within="3s", clock="wall"),
        Check(check="alert_fires_within", alert="Nope", within="1h"),
        Check(check="recovers_within", within="2m"),
        Check(check="recovers_within", within="1m"),
        Check(check="no_5xx_while", from_event="ops.flag", match={"action": "fallback_processor=on"}, grace="30s"),
        Check(check="no_5xx_while", from_event="ops.flag", target="payments"),
        Check(check="no_5xx_while", from_event="ops.flag", endpoint="POST /charges"),
        Check(check="retry_amplification_below", max_ratio=1.2),
        Check(check="retry_amplification_below", max_ratio=1.05),
        Check(check="outcome_is", outcome=["recovered"]),
        Check(check="outcome_is", outcome="aborted"),
    ]
    got = [r.ok for r in evaluate_all(checks, run)]
    assert got == [True, False, True, False, True, False, True, False, True, True, False, True, False]
    recorded = [json.loads(x) for x in (run / "journal.jsonl").read_text().splitlines()]
    assert sum(1 for e in recorded if e["kind"] == "check.result") == len(checks)


def test_no_5xx_window_fails_when_errors_continue(tmp_path: Path) -> None:
    run = make_run(tmp_path, fivexx_after_flag=2)
    [r] = evaluate_all([Check(check="no_5xx_while", from_event="ops.flag", grace="30s")], run, record=False)
    assert not r.ok and "2 5xx" in r.detail


def test_junit_xml_counts_failures(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    results = evaluate_all([Check(check="outcome_is", outcome="recovered"),
                            Check(check="outcome_is", outcome="aborted")], run, record=False)
    xml = junit_xml([{"name": "s", "time": 3.0, "results": results, "error": None},
                     {"name": "t", "time": 1.0, "results": [], "error": "run error: boom"}])
    root = ET.fromstring(xml.split("\n", 1)[1])
    assert root.get("tests") == "3" and root.get("failures") == "1" and root.get("errors") == "1"
    failure = root.find(".//testcase/failure")
    assert failure is not None and "expected aborted" in failure.get("message")

"""FaultEngine's safety checks and failure paths, on a run whose services are not (or no longer) there.

The run folder is real (targets.json, ledger.sqlite, journal.jsonl); its URLs point at a loopback port
nothing listens on, as after a crash. Nothing may be applied, and what could not be undone stays open.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from simulator.errors import EnvironmentProblem, NotFound, SafetyViolation
from simulator.faults.engine import FaultEngine
from simulator.journal import Journal, read_events
from simulator.targets.view import TargetsView


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def engine(tmp_path: Path):
    url = f"http://127.0.0.1:{_closed_port()}"
    target = {"app": "payments", "tier": "critical", "status": "running", "url": url, "internal_url": url,
              "pid": None, "create_time": None, "depends_on": []}
    data = {"run_id": "offline-run", "backend": "local", "status": "ready", "supervisor": {"url": None},
            "proxy": {"url": url}, "targets": {"payments": {"name": "payments", **target}},
            "links": {"gateway->payments": {"url": url, "from": "gateway", "to": "payments",
                                            "proxy": "gateway--payments"}}}
    (tmp_path / "targets.json").write_text(json.dumps(data))
    journal = Journal(tmp_path / "journal.jsonl")
    eng = FaultEngine(TargetsView.load(tmp_path), journal)
    yield eng
    eng.close()
    journal.close()


def _journal(engine: FaultEngine) -> list[str]:
    return [e.kind for e in read_events(engine.view.run_dir / "journal.jsonl")]


@pytest.mark.parametrize(("kind", "target", "params", "message"), [
    ("app.release", "billing", {"version": "v1"}, "target 'billing' was not started by run offline-run"),
    ("process.cpu_hog", "postgres", {}, "its targets: payments"),
    ("proxy.down", "payments->gateway", {}, "links: gateway->payments"),
    ("proxy.latency", "10.0.0.1", {"latency": 5}, "is neither a target nor a link"),
])
def test_targets_the_run_did_not_start_are_refused_before_the_ledger(
        engine: FaultEngine, kind: str, target: str, params: dict, message: str) -> None:
    with pytest.raises(SafetyViolation) as caught:
        engine.inject(kind, target, params)
    assert message in str(caught.value)
    assert engine.entries() == [] and _journal(engine) == []


def test_unreachable_ops_api_refuses_before_the_ledger(engine: FaultEngine) -> None:
    with pytest.raises(EnvironmentProblem, match="ops API unreachable"):
        engine.inject("app.release", "payments", {"version": "v2.4.0-leaky"})
    assert engine.entries() == []


def test_pause_without_a_process_refuses_before_the_ledger(engine: FaultEngine) -> None:
    with pytest.raises(EnvironmentProblem, match="has no running process"):
        engine.inject("process.pause", "payments", {})
    assert engine.entries() == []


def test_a_fault_that_cannot_be_applied_nor_undone_stays_open_for_cleanup(engine: FaultEngine) -> None:
    with pytest.raises(EnvironmentProblem, match="cannot reach the proxy control API"):
        engine.inject("proxy.latency", "gateway->payments", {"latency": 100}, fault_id="half")
    (row,) = engine.entries()
    assert row.id == "half" and row.state == "failed" and "undo also failed" in (row.error or "")
    assert row.revert == {"proxy": "gateway--payments", "toxic": "half"}
    assert [e.id for e in engine.ledger.open_entries()] == ["half"]
    assert _journal(engine) == ["fault.failed"]
    done, errors = engine.revert_all(by="cleanup")  # still unreachable: reported, never raised
    assert done == [] and len(errors) == 1 and errors[0].startswith("half (proxy.latency on gateway->payments)")
    assert engine.ledger.get("half").state == "failed"


def test_reverting_an_unknown_fault_names_the_known_ones(engine: FaultEngine) -> None:
    with pytest.raises(NotFound, match="no fault 'nope' in run offline-run; faults: none"):
        engine.revert("nope")

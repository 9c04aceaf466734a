"""A revert is "reverted" only when the fault's effect is gone (real targets, real proxy, real processes).

* ``process.kill`` with a stop signal is refused before the ledger sees it (it froze the target for good);
* a kill row written before that refusal (SIGSTOP'd process) is reverted by continuing the process, and only
  then marked reverted;
* a revert whose effect does not go away (a toxic something keeps putting back) leaves the row ``failed`` with
  what is still there, and cleanup's retry reverts it once it can.
"""

from __future__ import annotations

import threading

import psutil
import pytest
from faults_helpers import charge_direct, gameday, ledger_rows, proc_status, wait_for

from simulator import cleanup as cleanup_module
from simulator.errors import EnvironmentProblem
from simulator.faults import engine as engine_module
from simulator.faults.engine import FaultEngine
from simulator.proxy.client import ProxyClient
from simulator.targets.view import TargetsView


def test_kill_with_sigstop_is_refused_on_a_live_run_and_nothing_is_applied(shared_run: TargetsView,
                                                                            gameday_home) -> None:
    view = shared_run.refresh()
    t = view.target("payments")
    before = len(ledger_rows(view.run_dir))
    r = gameday(gameday_home, "fault", "inject", "process.kill", "-t", "payments", "-p", "signal=SIGSTOP",
                "--run", view.run_id)
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "not SIGSTOP" in lines[0] and "process.pause" in lines[0], lines
    assert len(ledger_rows(view.run_dir)) == before
    assert proc_status(t.pid or -1, t.create_time) != psutil.STATUS_STOPPED
    assert charge_direct(view, timeout=5).status_code == 201


def test_a_stop_signal_kill_recorded_before_the_refusal_is_continued_before_it_counts_as_reverted(
        engine: FaultEngine, shared_run: TargetsView) -> None:
    t = shared_run.refresh().target("payments")
    # what the old engine did: the ledger row, then SIGSTOP
    engine.ledger.record("old-stop", shared_run.run_id, "process.kill", "payments", {"signal": "SIGSTOP"},
                         {"pid": t.pid, "create_time": t.create_time, "hogs": []})
    psutil.Process(t.pid).suspend()
    wait_for(lambda: proc_status(t.pid or -1, t.create_time) == psutil.STATUS_STOPPED, 5, what="stopped")
    entry = engine.revert("old-stop")
    assert entry.state == "reverted"
    assert proc_status(t.pid or -1, t.create_time) != psutil.STATUS_STOPPED
    assert charge_direct(shared_run, timeout=10).status_code == 201


def test_a_revert_that_does_not_take_is_failed_in_the_ledger_and_cleanup_retries_it(
        engine: FaultEngine, shared_run: TargetsView, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "REVERT_CHECK_SECONDS", 1.0)
    entry = engine.inject("proxy.latency", "payments", {"latency": 50}, fault_id="sticky")
    proxy = entry.revert["proxy"]
    stop = threading.Event()

    def put_it_back() -> None:  # something outside gameday keeps re-adding the toxic
        with ProxyClient(shared_run.proxy_url) as client:
            while not stop.is_set():
                if not any(t.name == "sticky" for t in client.toxics(proxy)):
                    client.add_toxic(proxy, "latency", name="sticky", latency=50)
                stop.wait(0.02)

    thread = threading.Thread(target=put_it_back, daemon=True)
    thread.start()
    try:
        with pytest.raises(EnvironmentProblem, match="still there: toxic sticky is still on proxy"):
            engine.revert("sticky")
        row = engine.ledger.get("sticky")
        assert row.state == "failed" and "toxic sticky is still on proxy" in (row.error or "")
    finally:
        stop.set()
        thread.join(5)
    done, errors = cleanup_module._revert_with_retries(shared_run, None)
    assert errors == [] and [e.id for e in done] == ["sticky"]
    assert engine.ledger.get("sticky").state == "reverted"
    with ProxyClient(shared_run.proxy_url) as client:
        assert [t.name for t in client.toxics(proxy)] == []

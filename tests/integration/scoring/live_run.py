"""A small, realistic run folder, written live.

The journal is a real ``Journal`` on a running ``GameClock`` (240 game seconds per wall second);
the tracker is the embedded one (``start_tracker`` on loopback, with its journal mirror) worked
through ``TrackerClient`` over HTTP, as people or the responder would. Only the services and the
load are left out: the samples they would produce are written by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from simulator.journal import Journal
from simulator.rundir import RunDir
from simulator.scenario.clock import GameClock
from simulator.tracker.embedded import start_tracker
from tests.helpers.scoring_kit import SCENARIO

ROOT = Path(__file__).resolve().parents[3]
GAMEDAY = [sys.executable, "-m", "simulator"]

RUN_ID = "20260423-100000-pool-live-1a2b"
SCALE = 240.0


def gameday(*args: str, cwd: Path = ROOT, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([*GAMEDAY, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


class LiveRun:
    def __init__(self, folder: Path):
        self.folder = folder
        self.clock = GameClock(SCALE)
        self.journal = Journal(RunDir(folder).journal, game_time=self.clock.now)
        self.healthy = True

    def sample(self) -> None:
        failing = 0 if self.healthy else 30
        self.journal.write("sample", target="payments", rps=160.0, requests=40, ok=40 - failing,
                           status_2xx=40 - failing, status_429=0, status_5xx=failing, conn_errors=0,
                           p95_ms=50.0 if self.healthy else 1500.0, availability=(40 - failing) / 40,
                           error_rate=failing / 40, rejection_rate=0.0,
                           gauges={"db_pool_checked_out": 2.0 if self.healthy else 8.0, "db_pool_size": 8.0},
                           process={"rss_bytes": 7e7}, sample_wall=time.time(), sample_game=self.clock.now())

    def wait(self, game_seconds: float) -> None:
        """Let ``game_seconds`` pass, writing a sample every 10 game seconds."""
        end = self.clock.now() + game_seconds
        while self.clock.now() < end:
            self.sample()
            time.sleep(10.0 / SCALE)


def build_live_run(folder: Path) -> Path:
    folder.mkdir(parents=True)
    RunDir(folder).scenario.write_text(SCENARIO.format(severity="P1", escalated="null", impact="true", chain=""))
    run = LiveRun(folder)
    j = run.journal
    j.write("run.started", run_id=RUN_ID, scenario="pool-kit", title="Payments outage (live fixture)",
            time_scale=SCALE, responder="human", team="blue",
            truth={"severity": "P1", "root_cause": "leaky release", "root_cause_keywords": ["connection pool", "leak"],
                   "accepted_mitigations": ["rollback:payments"], "permanent_fixes": ["deploy:payments=v2.4.1"],
                   "harmful_actions": ["restart:payments"], "customer_impact": True})
    handle = start_tracker(RunDir(folder).tracker_db, run_id=RUN_ID, scenario="pool-kit", journal=j)
    try:
        client = handle.client(actor="alice")
        run.clock.start()
        j.write("phase.changed", phase="baseline")
        run.wait(60)
        j.write("fault.injected", id="leaky-release", kind="app.release", target="payments",
                params={"version": "v2.4.0-leaky"}, effective_at=time.time())
        run.healthy = False
        run.wait(30)
        j.write("steady_state.lost", probes=["availability payments = 0.25 (want >= 0.999)"])
        run.wait(20)
        j.write("alert.firing", alertname="HighErrorRate", target="payments", at=run.clock.now(),
                labels={"severity": "critical", "service": "payments"}, annotations={"summary": "payments failing"})
        ref = client.send_alert("HighErrorRate", "payments", severity="critical", run_id=RUN_ID)["incidents"][0]
        run.wait(20)
        client.ack(ref)
        for item in ("deployments", "logs", "infrastructure", "dependencies", "configuration", "users"):
            client.checklist(ref, item)
        client.declare(ref, "P1")
        for role, person in (("incident_commander", "Avery"), ("tech_lead", "Blake"), ("comms_lead", "Casey"),
                             ("scribe", "Devon")):
            client.assign(ref, role, person)
        client.status_update(ref, "Investigating", "Customers cannot pay; charges fail with 503 since v2.4.0.",
                             "Rolling back payments; status page updated.", next_update_in_minutes=15,
                             audience="external")
        run.wait(20)
        j.write("ops.rollback", action="rollback:payments", target="payments", actor="alice",
                summary="now release v2.3.1")
        client.ops_action(ref, "rollback", target="payments", params={"action": "rollback:payments"})
        run.healthy = True
        run.wait(40)
        j.write("steady_state.restored", probes=["availability payments = 1 (want >= 0.999)"])
        client.mitigate(ref)
        run.wait(20)
        client.status_update(ref, "Resolved", "Charges succeed again since the rollback.",
                             "Watching the pool; post-mortem scheduled.", next_update_in_minutes=60)
        client.resolve(ref)
        client.refresh_postmortem(ref)
        client.update_postmortem(
            ref, overview_customer_impact="Customers could not pay for about two minutes.",
            root_cause="Release v2.4.0 leaked connections and exhausted the connection pool; retries made it worse.",
            detection_how="The HighErrorRate alert paged on-call.",
            detection_delay="About 60 s: HighErrorRate waits out its 1m window.",
            detection_earlier="Yes, with a pool saturation alert.", response_went_well="Fast rollback, clear roles.",
            response_improve="Customer communication could start earlier.",
            response_people="Yes, payments on-call and the database owner.",
            resolution_how="Rolled payments back to v2.3.1.", resolution_alternatives="The fallback processor flag.",
            resolution_permanence="Permanent for this release.", lessons_learned="Canary every release.",
            meeting_date=time.strftime("%Y-%m-%d", time.gmtime()))
        due = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 14 * 86400))
        client.add_action_item(ref, "Fix the refund-path connection leak", owner="Blake", due_date=due, type="fix")
        client.add_action_item(ref, "Alert on pool saturation", owner="Devon", due_date=due, type="monitoring")
        run.wait(10)
        j.write("run.finished", outcome="recovered", reason="live fixture")
    finally:
        handle.stop()
        j.close()
    return folder

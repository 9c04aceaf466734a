"""Hand-built run folders with known answers, for the scoring and report tests.

``RunKit`` writes ``journal.jsonl`` (the journal's own record format, ``Event.to_json``), a small
scenario, and -- through ``kit.tracker()`` -- a real ``tracker.db`` worked with the real
``TrackerService`` on a clock the kit sets, whose timeline is mirrored into the journal the way
the embedded tracker mirrors it. Times are given in game seconds; wall time is
``START + game / time_scale``.

``exemplary(kit)`` plays a textbook response to a P1 pool exhaustion; tests change one thing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from simulator.journal import EVENT_KINDS, Event
from simulator.rundir import RunDir
from simulator.scoring.card import ScoreCard
from simulator.scoring.config import load_config
from simulator.scoring.rundata import load_run
from simulator.scoring.scorer import score
from simulator.tracker.embedded import JOURNAL_PREFIXES
from simulator.tracker.local import LocalTracker
from simulator.tracker.service import TrackerService

#: the seed scenario's causal chain (scenarios/pool-exhaustion.yaml), for root causes judged link by link
CHAIN = """\
  causal_chain:
    - {name: the v2.4.0 release, phrases: [v2.4.0, new release, payments release, deploy, release]}
    - {name: connections leaked, phrases: [connection leak, connections not returned, connections not released]}
    - {name: pool exhausted, phrases: [pool exhausted, no free connections, timeouts waiting for a connection]}
    - {name: retries amplified it, phrases: [retries, retry storm, clients retried immediately]}
"""
START = datetime(2026, 4, 23, 10, 0, tzinfo=UTC).timestamp()  # a Thursday, 10:00 UTC
RUN_ID = "20260423-100000-pool-kit-0001"
SAMPLE_STEP = 10.0  # game seconds between the kit's samples (its monitor interval)

SCENARIO = """\
apiVersion: gameday/v1
kind: Scenario
metadata:
  name: pool-kit
  title: "Payments: DB connection-pool exhaustion (test kit)"
truth:
  severity: {severity}
  escalated_severity: {escalated}
  root_cause: "Release v2.4.0 leaks database connections; the pool runs dry and client retries amplify it."
  root_cause_keywords: [connection pool, leak, release, retry]
  accepted_mitigations: [rollback:payments, "flag:payments.fallback_processor=on", "deploy:payments=v2.4.1"]
  permanent_fixes: ["deploy:payments=v2.4.1"]
  harmful_actions: [restart:payments]
  customer_impact: {impact}
  services_affected: [payments]
{chain}targets:
  - name: payments
    app: payments
    tier: critical
steady_state:
  - {{probe: availability, target: payments, min: 0.999, window: 30s}}
faults:
  - id: leaky-release
    at: 2m
    kind: app.release
    target: payments
    params: {{version: v2.4.0-leaky}}
escalations:
  - after_unmitigated: 10m
    severity: P1
    note: "Finance reports failed settlements"
timing:
  time_scale: 4
  max_duration: 40m
  baseline: 1m
  cooldown: 30s
"""


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat()


class KitTracker:
    """A real tracker database for the run, on the kit's clock; its timeline is mirrored to the journal."""

    def __init__(self, kit: RunKit):
        self.kit = kit
        self.game = 0.0
        self.service = TrackerService(str(RunDir(kit.path).tracker_db), run_id=kit.run_id, exercise=True,
                                      scenario="pool-kit", clock=self._now)
        self.client = LocalTracker(self.service, actor="responder")
        self.service.subscribe(self._mirror)
        self.ref: str | None = None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.kit.wall(self.game), UTC)

    def _mirror(self, events: list[Any]) -> None:
        if not self.kit.mirror:
            return
        for e in events:
            if e.kind.startswith(JOURNAL_PREFIXES):
                game = self.kit.game_of(e.at.timestamp())
                self.kit.event(e.kind, game, incident=e.incident, actor=e.actor, summary=e.summary,
                               tracker_seq=e.seq, at=e.at.isoformat(), detail=e.data)

    def at(self, game: float) -> LocalTracker:
        self.game = game
        return self.client

    def alert(self, game: float, name: str = "HighErrorRate", severity: str = "critical",
              service: str = "payments") -> str:
        result = self.at(game).send_alert(name, service, severity=severity, summary=f"{service} failing",
                                          run_id=self.kit.run_id)
        self.ref = self.ref or result["incidents"][0]
        return result["incidents"][0]

    def close(self) -> None:
        self.service.db.close()


class RunKit:
    def __init__(self, path: Path, *, time_scale: float = 4.0, severity: str = "P1", escalated: str = "null",
                 customer_impact: bool = True, run_id: str = RUN_ID, scenario: bool = True, mirror: bool = True,
                 causal_chain: bool = False):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.scale = time_scale
        self.run_id = run_id
        self.events: list[Event] = []
        self.mirror = mirror
        self.scenario_text = SCENARIO.format(severity=severity, escalated=escalated,
                                             impact="true" if customer_impact else "false",
                                             chain=CHAIN if causal_chain else "")
        self.with_scenario = scenario
        self.truth = {"severity": severity, "escalated_severity": None if escalated == "null" else escalated,
                      "root_cause": "Release v2.4.0 leaks database connections.",
                      "root_cause_keywords": ["connection pool", "leak", "release", "retry"],
                      "accepted_mitigations": ["rollback:payments", "flag:payments.fallback_processor=on",
                                               "deploy:payments=v2.4.1"],
                      "permanent_fixes": ["deploy:payments=v2.4.1"], "harmful_actions": ["restart:payments"],
                      "customer_impact": customer_impact, "services_affected": ["payments"]}
        self._tracker: KitTracker | None = None

    # ---- time
    def wall(self, game: float) -> float:
        return START + game / self.scale

    def game_of(self, wall: float) -> float:
        return (wall - START) * self.scale

    # ---- raw events
    def event(self, event_kind: str, game: float | None, /, wall: float | None = None, **data: Any) -> None:
        assert event_kind in EVENT_KINDS, event_kind
        w = wall if wall is not None else self.wall(game or 0.0)
        self.events.append(Event(0, w, game, event_kind, data))

    # ---- the run
    def start(self, responder: str = "auto", team: str | None = None) -> RunKit:
        data: dict[str, Any] = {"run_id": self.run_id, "scenario": "pool-kit", "title": "Pool kit",
                                "time_scale": self.scale, "responder": responder, "truth": self.truth,
                                "interval": SAMPLE_STEP / self.scale}  # the monitor interval (wall s)
        if team:
            data["team"] = team
        self.event("run.started", None, wall=self.wall(0) - 0.5, **data)
        self.event("phase.changed", 0.0, phase="ramp")
        return self

    def fault(self, game: float, fid: str = "leaky-release", target: str = "payments") -> None:
        self.event("fault.injected", game + 0.4, id=fid, kind="app.release", target=target,
                   params={"version": "v2.4.0-leaky"}, effective_at=self.wall(game))

    def alert(self, game: float, name: str = "HighErrorRate", target: str = "payments",
              severity: str = "critical") -> None:
        self.event("alert.firing", game + 0.3, alertname=name, target=target, state="firing", at=game,
                   labels={"severity": severity, "service": target}, annotations={"summary": f"{name} on {target}"})

    def lost(self, game: float, why: str = "availability payments = 0.41 (want >= 0.999)") -> None:
        self.event("steady_state.lost", game, probes=[why])

    def restored(self, game: float) -> None:
        self.event("steady_state.restored", game, probes=["availability payments = 1 (want >= 0.999)"])

    def ops(self, game: float, action: str, actor: str = "responder") -> None:
        verb, rest = action.split(":", 1)
        self.event(f"ops.{verb}", game, action=action, target=rest.split(".", 1)[0].split("=", 1)[0], actor=actor,
                   summary="done")

    def escalation(self, game: float, severity: str = "P1") -> None:
        self.event("escalation.triggered", game, index=0, severity=severity, note="Finance reports failed settlements",
                   game=game)

    def samples(self, until: float, step: float = SAMPLE_STEP, bad: list[tuple[float, float]] | None = None,
                target: str = "payments") -> None:
        """One sample per ``step`` game seconds; inside a ``bad`` window most requests fail."""
        t = step
        while t <= until:
            failing = any(a <= t < b for a, b in bad or [])
            requests = 40
            fail = 30 if failing else 0
            self.event("sample", t, target=target, rps=requests / (step / self.scale), requests=requests,
                       ok=requests - fail, status_2xx=requests - fail, status_429=0, status_5xx=fail, conn_errors=0,
                       p95_ms=1500.0 if failing else 50.0, availability=(requests - fail) / requests,
                       error_rate=fail / requests, rejection_rate=0.0,
                       gauges={"db_pool_checked_out": 8.0 if failing else 2.0, "db_pool_size": 8.0},
                       process={"rss_bytes": 70e6}, sample_wall=self.wall(t), sample_game=t)
            t += step

    def finish(self, game: float, outcome: str = "recovered") -> None:
        self.event("phase.changed", game - 1, phase="teardown")
        self.event("run.finished", game, outcome=outcome, reason="test kit")

    def tracker(self) -> KitTracker:
        if self._tracker is None:
            self._tracker = KitTracker(self)
        return self._tracker

    # ---- write
    def write(self) -> Path:
        if self._tracker is not None:
            self._tracker.close()
        ordered = sorted(self.events, key=lambda e: e.wall)
        with open(RunDir(self.path).journal, "w", encoding="utf-8") as fh:
            for seq, e in enumerate(ordered, start=1):
                e.seq = seq
                fh.write(e.to_json() + "\n")
        if self.with_scenario:
            RunDir(self.path).scenario.write_text(self.scenario_text, encoding="utf-8")
        return self.path


# ------------------------------------------------------------------------ a textbook response

EXEMPLARY = {"fault": 120.0, "lost": 150.0, "alert": 170.0, "triggered": 172.0, "ack": 200.0, "declare": 260.0,
             "update": 290.0, "ops": 320.0, "restored": 380.0, "mitigated": 390.0, "resolved": 510.0,
             "end": 600.0}

GOOD_PM = {
    "overview_customer_impact": "Customers could not pay for about 4 minutes; charges failed with 503.",
    "root_cause": "Release v2.4.0 leaked database connections on the refund path, exhausting the connection pool; "
                  "immediate client retries amplified the load.",
    "detection_how": "The HighErrorRate alert paged the on-call engineer.",
    "detection_delay": "About a minute: HighErrorRate waits for its evaluation window before firing.",
    "detection_earlier": "Yes, by alerting on pool saturation before errors start.",
    "response_went_well": "Roles were assigned at once and the rollback was quick.",
    "response_improve": "Tell customers sooner and automate the fallback processor.",
    "response_people": "Yes, the payments team and the database owner were involved.",
    "resolution_how": "We rolled payments back to v2.3.1 and watched the pool drain.",
    "resolution_alternatives": "Switching on the fallback processor was considered as a stop-gap.",
    "resolution_permanence": "Permanent: the leaky release is gone; the fix ships normally.",
    "lessons_learned": "Canary releases catch leaks early.\nRetries need exponential backoff.",
}


def exemplary(kit: RunKit, *, postmortem: bool = True, **changes: Any) -> KitTracker:
    """A textbook P1 response. ``changes``: override moments (``ack=None`` skips the ack), or
    ``severity='P3'`` (declared), ``update_text``/``doing_text``/``next_in``/``audience`` (the first status update),
    ``actions=[(game, action), ...]``, ``checklist=[...]``, ``roles_at``, ``people``, ``manual=True`` (a person opens
    the incident), ``pm={field: text}``, ``items=[(action, owner, type)]``, ``meeting=date | None``, ``team``,
    ``responder`` (recorded on run.started: ``auto`` by default; ``human``: people, judged on the people's clock)."""
    m = {**EXEMPLARY, **{k: v for k, v in changes.items() if k in EXEMPLARY}}
    kit.start(team=changes.get("team"), responder=changes.get("responder", "auto"))
    kit.samples(m["end"], bad=[(m["lost"], m["restored"] or m["end"])] if m["lost"] is not None else [])
    kit.fault(m["fault"])
    if m["lost"] is not None:  # lost=None: the steady state never breaks
        kit.lost(m["lost"])
    if m["alert"] is not None:
        kit.alert(m["alert"])
    t = kit.tracker()
    if changes.get("manual"):
        ref = t.at(m["triggered"]).create_incident("Payments failing", "payments", severity="P2")["ref"]
        t.ref = ref
    else:
        ref = t.alert(m["triggered"])
    if m["ack"] is not None:
        t.at(m["ack"]).ack(ref, actor="alice")
    for i, item in enumerate(changes.get("checklist", ["deployments", "logs", "infrastructure", "dependencies",
                                                       "configuration", "users"])):
        t.at(m["ack"] or m["triggered"] + 1 + i * 0.1).checklist(ref, item)
    if m["declare"] is not None:
        t.at(m["declare"]).declare(ref, changes.get("severity", "P1"))
        people = changes.get("people", ("Avery", "Blake", "Casey", "Devon"))
        for i, (role, person) in enumerate(zip(("incident_commander", "tech_lead", "comms_lead", "scribe"), people,
                                               strict=True)):
            t.at(changes.get("roles_at", m["declare"]) + 1 + i).assign(ref, role, person)
    if m["update"] is not None:
        t.at(m["update"]).status_update(ref, "Investigating", changes.get(
            "update_text", "Customers cannot pay: charges fail with 503 since the v2.4.0 deploy."),
            changes.get("doing_text", "Rolling back payments to v2.3.1; status page updated."),
            next_update_in_minutes=changes.get("next_in", 15), audience=changes.get("audience", "external"))
    for game, action in changes.get("actions", [(m["ops"], "rollback:payments")]):
        kit.ops(game, action)
    if m["restored"] is not None:
        kit.restored(m["restored"])
    if m["mitigated"] is not None:
        t.at(m["mitigated"]).mitigate(ref)
    if m["resolved"] is not None:
        t.at(m["resolved"] - 10).status_update(ref, "Resolved", "Charges succeed again; the pool is healthy.",
                                               "Watching the pool; post-mortem on Friday.", next_update_in_minutes=60)
        t.at(m["resolved"]).resolve(ref)
    if postmortem and m["resolved"] is not None:
        t.at(m["resolved"] + 20).refresh_postmortem(ref)
        fields = {**GOOD_PM, **changes.get("pm", {})}
        if "timeline" not in fields:  # a careful team adds its decisions to the tracker's prefilled timeline
            prefill = t.client.postmortem(ref).timeline or ""
            decided = iso(kit.wall(m["resolved"] + 15))[11:19]
            fields["timeline"] = (prefill.rstrip() + f"\n- **{decided} UTC**: agreed the leak fix ships behind a "
                                  "canary; the fallback processor stays in reserve").strip()
        meeting = changes.get("meeting", date(2026, 4, 24))
        t.at(m["resolved"] + 30).update_postmortem(ref, meeting_date=meeting.isoformat() if meeting else None,
                                                   **fields)
        for action, owner, kind, *due in changes.get("items", [
                ("Fix the connection leak on the refund path", "Blake", "fix"),
                ("Alert on DB pool saturation", "Devon", "monitoring")]):
            t.at(m["resolved"] + 40).add_action_item(ref, action, owner=owner, due_date=(due or ["2026-05-07"])[0],
                                                     type=kind)
    kit.finish(m["end"])
    return t


def card_of(kit: RunKit, **overrides: Any) -> ScoreCard:
    """Write the kit's run folder and score it (``overrides`` merged over the default configuration)."""
    path = kit.write()
    return score(load_run(path), load_config(overrides=overrides or None))

"""The drill's one tracker: who owns an incident opened by hand, and each run's journal mirror."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from simulator.drills.loader import load_drill
from simulator.drills.roster import build_roster
from simulator.drills.tracker import DrillTracker
from simulator.errors import EnvironmentProblem
from simulator.journal import Journal, read_events
from simulator.scenario import load_scenario
from simulator.tracker.client import TrackerClient
from simulator.tracker.embedded import journal_mirror

ROOT = Path(__file__).resolve().parents[3]


def _run(run_id: str, scenario: str) -> SimpleNamespace:
    """What DrillTracker reads of a Runner: its run_id and its scenario."""
    return SimpleNamespace(run_id=run_id, scenario=load_scenario(ROOT / "scenarios" / f"{scenario}.yaml"))


def test_hand_made_incidents_go_to_the_run_that_owns_the_service(tmp_path: Path) -> None:
    pool, limits = _run("r-pool", "pool-exhaustion"), _run("r-limits", "rate-limit-misconfig")
    with DrillTracker(tmp_path, name="drill") as tracker, TrackerClient(tracker.url, actor="ana") as client:
        assert tracker.run_for("payments") is None  # no run going
        tracker.add(pool)
        # one run going (a game day): everything is its
        assert client.create_incident(title="x", service="auth")["run_id"] == "r-pool"
        tracker.add(limits)
        # both declare payments as a target; only pool-exhaustion says payments is affected
        assert client.create_incident(title="slow charges", service="payments")["run_id"] == "r-pool"
        assert client.create_incident(title="429s", service="gateway")["run_id"] == "r-limits"
        assert client.create_incident(title="?", service="auth")["run_id"] is None  # neither owns auth
        tracker.remove(pool)
        assert client.create_incident(title="again", service="payments")["run_id"] == "r-limits"
        # an explicit run always wins
        assert client.create_incident(title="y", service="payments", run_id="r-pool")["run_id"] == "r-pool"
    assert (tmp_path / "tracker.db").is_file()


def test_each_run_mirrors_only_its_own_incidents(tmp_path: Path) -> None:
    with DrillTracker(tmp_path) as tracker, TrackerClient(tracker.url, actor="ana") as client:
        journals = {r: Journal(tmp_path / f"{r}.jsonl") for r in ("a", "b")}
        unsubscribe = [tracker.service.subscribe(journal_mirror(j, tracker.service, run_id=r))
                       for r, j in journals.items()]
        ref_a = client.create_incident(title="a's", service="payments", run_id="a")["ref"]
        ref_b = client.create_incident(title="b's", service="gateway", run_id="b")["ref"]
        client.ack(ref_b)
        for u in unsubscribe:
            u()
        client.ack(ref_a)  # after unsubscribing: not mirrored
        for j in journals.values():
            j.close()
    a = read_events(tmp_path / "a.jsonl")
    b = read_events(tmp_path / "b.jsonl")
    assert {e.data["incident"] for e in a} == {ref_a} and [e.kind for e in a] == ["incident.triggered"]
    assert {e.data["incident"] for e in b} == {ref_b}
    assert [e.kind for e in b] == ["incident.triggered", "incident.acknowledged"]


def test_the_drills_roster_is_on_the_trackers_roster(tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "annual-full-scale.yaml")
    roster = build_roster(drill)
    with DrillTracker(tmp_path) as tracker:
        tracker.seed_roster(roster)
        people = {p.name: p for p in tracker.service.list_people()}
    members = {m.name: t.name for t in roster.teams for m in t.members}
    assert {n: p.team for n, p in people.items()} == members
    payments = roster.team("payments-team")
    assert people[payments.on_call.primary].oncall == "primary"
    assert people[payments.on_call.secondary].oncall == "secondary"
    assert sum(p.oncall is not None for p in people.values()) == 2


def test_a_taken_port_says_which_option_to_change(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(EnvironmentProblem, match=f"port {port} on 127.0.0.1 is taken.*--tracker-port"):
            DrillTracker(tmp_path, port=port)

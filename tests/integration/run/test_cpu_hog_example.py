"""The CPU-hog example end to end (examples/cpu-hog): the runaway processes on auth's host (its one CPU, a kernel
CPU limit they share with it) really drive auth's p95 over the critical tier's 200 ms; the automated responder
looks at the host's processes and kills the runaway ones (the hogs, by their pids: never auth itself), the card
credits the kill and scores >= 90; a team doing nothing scores far lower.

Until auth's host had a CPU of its own, the hogs spun on the machine's two cores and auth's p95 sat at 200-320 ms,
flapping at the bound: the steady state came back by itself before the kill in three runs of one day, and the
test ran the scenario a second time in such a case. With the shared CPU it sits at a median 360-470 ms."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from simulator.run import RunOptions, run_scenario, score_result
from simulator.rundir import RunDir
from simulator.scenario import load_scenario
from simulator.scoring.config import load_config
from simulator.targets import cpulimit

# two real runs of several wall minutes each; the hog takes a core, so ``make test`` runs them last of the slow
# tests (``tests/conftest.py``, ``LAST``), after the runs its load would disturb
WHY = cpulimit.problem()
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800),
              pytest.mark.skipif(WHY is not None, reason=f"the example's host CPU needs a CPU limit: {WHY}")]
ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "cpu-hog" / "auth-cpu-hog.yaml"


def run(tmp_path: Path, responder: str, **options: object):
    result = run_scenario(load_scenario(EXAMPLE), RunOptions(out=tmp_path / responder, responder=responder,
                                                             **options), scenario_path=EXAMPLE)
    card = score_result(result, load_config())
    assert card is not None, result.teardown_errors
    return result, card


def test_the_responder_finds_and_kills_the_runaway_process_and_scores_90(gameday_home: Path, tmp_path: Path) -> None:
    result, card = run(tmp_path, "auto")
    journal = RunDir(result.run_dir).journal
    assert str(result.outcome) == "recovered", result.reason
    lost = list(read_events(journal, "steady_state.lost"))
    assert lost and any("p95" in str(p) for p in lost[0].data["probes"]), "the hog did not slow auth down"
    with Ledger.of_run(result.run_dir) as ledger:
        [entry] = ledger.entries()
        hogs = {h["pid"] for h in entry.revert["hogs"]}
        assert entry.state == "reverted"
    kills = list(read_events(journal, "ops.kill"))
    assert kills and all(k.data["action"] == "kill:auth.runaway" and k.data["pid"] in hogs for k in kills)
    choice = card.item("mitigation.choice")
    assert choice.status == "met" and "kill:auth.runaway restored the steady state" in choice.reason, choice.reason
    assert card.item("mitigation.harm").status == "met"
    assert card.overall >= 90, [(i.id, i.points, i.max_points, i.reason) for i in card.items if i.points < i.max_points]


def test_a_team_doing_nothing_scores_far_lower(gameday_home: Path, tmp_path: Path) -> None:
    result, card = run(tmp_path, "none", max_duration=5 * 60.0)  # three game minutes of the hog, nobody acting
    assert str(result.outcome) != "recovered"
    assert card.item("mitigation.choice").points == 0.0
    assert card.overall < 50

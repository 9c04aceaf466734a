"""A restart after an OOM kill is a reprieve, not a recovery, until someone acts."""

from __future__ import annotations

import time
from pathlib import Path

from simulator.journal import Journal
from simulator.run.reprieve import Reprieve
from simulator.scenario import load_scenario


def test_an_oom_kill_with_no_action_after_it_is_a_reprieve(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    runner, supervisor = Journal(path, game_time=lambda: 10.0), Journal(path)  # two writers, as in a run
    watch = Reprieve(path, {"auth"})
    runner.write("sample", target="auth", process={"rss_bytes": 1e8})
    assert not watch.holds()  # nothing killed yet
    supervisor.write("target.crashed", name="auth", exit_code=-9, oom_killed=False)
    supervisor.write("target.crashed", name="payments", exit_code=-9, oom_killed=True)  # not one of ours
    assert not watch.holds()
    supervisor.write("target.crashed", name="auth", exit_code=-9, oom_killed=True)
    supervisor.write("target.restarted", name="auth", reason="policy")
    assert watch.holds()
    runner.write("ops.rollback", action="rollback:auth", target="auth", actor="responder", summary="v3.0.4")
    assert not watch.holds()  # someone acted
    supervisor.write("target.crashed", name="auth", exit_code=-9, oom_killed=True)  # ... and it was not enough
    assert watch.holds()


def test_a_torn_last_line_is_read_once_it_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    watch = Reprieve(path, {"auth"})
    assert not watch.holds()  # no journal yet
    line = Journal(tmp_path / "other.jsonl")
    line.write("target.crashed", name="auth", exit_code=-9, oom_killed=True)
    text = (tmp_path / "other.jsonl").read_text()
    path.write_text(text[:20])
    assert not watch.holds()
    path.write_text(text)
    assert watch.holds()


def test_acted_says_whether_anyone_took_an_ops_action(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    runner = Journal(path, game_time=lambda: 10.0)
    watch = Reprieve(path, {"auth"})
    runner.write("steady_state.lost", probes=[])
    runner.write("steady_state.restored", probes=[])
    assert not watch.acted()  # a flap: nobody did anything
    runner.write("ops.restart", action="restart:auth", target="auth", actor="ana", summary="restarted")
    assert watch.acted()


def test_memory_leak_needs_an_action_for_a_recovery_and_the_default_does_not() -> None:
    root = Path(__file__).resolve().parents[3] / "scenarios"
    assert load_scenario(root / "memory-leak.yaml", "before").timing.recovery == "after_action"
    assert load_scenario(root / "pool-exhaustion.yaml").timing.recovery == "any"  # auto_fallback may heal it


def test_mitigated_is_the_first_accepted_mitigation_since_the_fault(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    clock = [5.0]
    runner, person = Journal(path, game_time=lambda: clock[0]), Journal(path)  # a person's `gameday ops`: no game
    watch = Reprieve(path, {"auth"}, accepted=["rollback:auth", "deploy:auth.release=v3.0.4"])
    runner.write("ops.rollback", action="rollback:auth", target="auth", actor="responder", summary="early")
    fault = time.time() + 0.001
    time.sleep(0.01)
    assert watch.mitigated(since_wall=fault) is None  # before the fault: not a mitigation of it
    clock[0] = 50.0
    runner.write("ops.restart", action="restart:auth", target="auth", actor="responder", summary="restarted")
    assert watch.mitigated(since_wall=fault) is None  # an action, but not an accepted mitigation
    person.write("ops.deploy", action="deploy:auth.release=v3.0.4", target="auth", actor="ana", summary="ok")
    assert watch.mitigated(since_wall=fault) == ("deploy:auth.release=v3.0.4", None)  # game unknown: the runner's
    runner.write("ops.rollback", action="rollback:auth", target="auth", actor="responder", summary="again")
    assert watch.mitigated(since_wall=fault) == ("deploy:auth.release=v3.0.4", None)  # the first one counts
    assert watch.mitigated(since_wall=0.0) == ("rollback:auth", 5.0)

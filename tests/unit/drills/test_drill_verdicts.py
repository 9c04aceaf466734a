"""Drill verdicts: the pass score per drill, why a game-day part fails, a tabletop declaration on time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.domain.policy import DRILL_PASS_SCORE
from simulator.drills.criteria import Evidence, judge_declaration
from simulator.drills.gameday import DrillResult, PartResult
from simulator.drills.loader import load_drill, load_drill_text
from simulator.drills.verdict import PassScore, drill_verdict, part_problems, tabletop_verdict
from simulator.errors import ValidationFailed
from simulator.scoring.config import default_config

ROOT = Path(__file__).resolve().parents[3]
T0 = 1_800_000_000.0  # when the inject was delivered (wall clock)


def test_every_drill_type_people_play_has_a_policy_pass_score_a_do_nothing_team_fails() -> None:
    assert set(DRILL_PASS_SCORE) == {"tabletop", "game-day", "full-scale"}
    for path in sorted((ROOT / "drills").glob("*.yaml")):
        drill = load_drill(path)
        if drill.metadata.type == "ci":
            continue
        assert drill.pass_score > 0, f"{path.name}: a team doing nothing (score 0) would pass"
        bar = PassScore.of(drill)
        assert not tabletop_verdict(0.0, 10, bar).ok


def test_the_pass_score_is_editable_in_the_drill() -> None:
    text = (ROOT / "drills" / "tabletop-rate-limit.yaml").read_text()
    drill = load_drill_text(text.replace("tabletop:\n", "scoring:\n  pass_score: 85\ntabletop:\n", 1), "t.yaml")
    assert drill.pass_score == 85 and "this drill's scoring.pass_score" in PassScore.of(drill).text
    assert not tabletop_verdict(84.9, 10, PassScore.of(drill)).ok
    assert tabletop_verdict(85.0, 10, PassScore.of(drill)).ok
    with pytest.raises(ValidationFailed):
        load_drill_text(text.replace("tabletop:\n", "scoring:\n  pass_score: 120\ntabletop:\n", 1), "t.yaml")


def test_a_tabletop_verdict_says_the_score_and_the_bar() -> None:
    bar = PassScore(70.0, "policy default for a tabletop drill")
    assert tabletop_verdict(0.0, 12, bar).line == ("FAIL: 0/100 is under the pass score 70/100 (policy default for "
                                                  "a tabletop drill)")
    assert tabletop_verdict(88.5, 12, bar).line.startswith("PASS: 88.5/100 reaches the pass score 70/100")
    assert not tabletop_verdict(100.0, 0, bar).ok  # nothing expected: nothing judged


def _part(outcome: str, overall: float | None, status: str | None = "resolved", incident: str | None = "INC-1",
          **kw: object) -> PartResult:
    return PartResult("pool-exhaustion", "pool-exhaustion", "/nowhere", outcome, kw.pop("reason", "why"),  # type: ignore[arg-type]
                      overall=overall, incident=incident, incident_status=status, **kw)  # type: ignore[arg-type]


BAR = PassScore(70.0, "policy default for a game-day drill")


def test_time_running_out_on_an_open_incident_fails_whatever_the_score() -> None:
    assert part_problems(_part("max_duration", 95.0, "mitigated"), BAR) == [
        "time ran out with INC-1 still mitigated"]
    assert part_problems(_part("max_duration", 95.0, None, incident=None), BAR) == [
        "time ran out with no incident opened"]
    assert part_problems(_part("max_duration", 95.0, "resolved"), BAR) == []
    assert part_problems(_part("recovered", 95.0, "resolved"), BAR) == []


def test_a_responder_doing_nothing_fails_with_every_reason_on_the_line() -> None:
    nothing = _part("max_duration", 0.0, "triggered", incident="INC-2026-0001")
    result = DrillResult("quarterly-game-day", "/nowhere", [nothing], bar=BAR)
    assert not result.ok
    assert result.verdict.line == ("FAIL: pool-exhaustion: time ran out with INC-2026-0001 still triggered, score "
                                   "0/100 is under the pass score 70 — pass score 70/100 (policy default for a "
                                   "game-day drill)")
    data = result.to_json()
    assert data["ok"] is False and data["pass_score"] == 70.0 and data["parts"][0]["problems"]


def test_a_careful_team_passes_and_a_failed_run_or_abort_does_not() -> None:
    good = _part("recovered", 91.2)
    assert drill_verdict([good], BAR, aborted=False).line.startswith("PASS: every scenario resolved")
    assert not drill_verdict([good], BAR, aborted=True).ok
    assert not drill_verdict([], BAR, aborted=False).ok
    broken = _part("error", None, reason="Locust did not start", scoring_error="scoring unavailable: boom")
    assert part_problems(broken, BAR) == ["the run did not finish (error: Locust did not start)",
                                          "scoring unavailable: boom"]
    low = _part("recovered", 69.9)
    assert part_problems(low, BAR) == ["score 69.9/100 is under the pass score 70"]


# ------------------------------------------------------------------------------ declaration timing
def _at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, UTC).isoformat()


def _evidence(*events: tuple[float, str, dict[str, str]]) -> Evidence:
    timeline = [{"kind": kind, "data": data, "at": _at(at), "seq": i} for i, (at, kind, data) in enumerate(events)]
    return Evidence([{"ref": "INC-1"}], timeline, {"i2-alert": T0}, (), ())


def _declare(ev: Evidence, drill: str = "tabletop-rate-limit") -> tuple[float, str]:
    d = load_drill(ROOT / "drills" / f"{drill}.yaml")
    assert d.tabletop is not None
    inject = next(i for i in d.tabletop.injects if any(e.do == "declare" for e in i.expected))
    expect = next(e for e in inject.expected if e.do == "declare")
    return judge_declaration(expect, inject.id, ev, default_config(), d.tabletop)


def test_the_right_severity_in_time_earns_everything() -> None:
    share, line = _declare(_evidence((40, "incident.declared", {"severity": "P2"})))
    assert share == 1.0
    assert line.startswith("declared P2 40s after the inject; expected P2 within 30m of the inject, wall clock "
                           "(the standard: P2 response time '< 30 min')")


def test_the_right_severity_late_earns_the_late_share() -> None:
    share, line = _declare(_evidence((45 * 60, "incident.declared", {"severity": "P2"})))
    assert share == 0.25
    assert "declared P2 45m after the inject: right but late" in line and "declare_credit.late" in line


def test_a_wrong_first_severity_corrected_in_time_is_partial_with_both_times() -> None:
    share, line = _declare(_evidence((60, "incident.declared", {"severity": "P3"}),
                                     (10 * 60, "incident.severity_changed", {"from": "P3", "to": "P2"})))
    assert share == 0.5
    assert line.startswith("declared P3 1m after the inject, corrected to P2 10m after it: corrected in time")
    assert "partial credit 50% (policy: declare_credit.corrected)" in line


def test_a_correction_after_the_target_earns_the_late_share() -> None:
    share, line = _declare(_evidence((60, "incident.declared", {"severity": "P3"}),
                                     (50 * 60, "incident.severity_changed", {"from": "P3", "to": "P2"})))
    assert share == 0.25 and "corrected to P2 50m after it: corrected late" in line


def test_wrong_and_never_corrected_or_never_declared_earn_nothing() -> None:
    share, line = _declare(_evidence((60, "incident.declared", {"severity": "P4"}),
                                     (90, "incident.severity_changed", {"from": "P4", "to": "P3"})))
    assert share == 0.0 and line.startswith("declared P4 1m after the inject, later P3, never P2; expected P2")
    share, line = _declare(_evidence((5, "incident.acknowledged", {})))
    assert share == 0.0 and line.startswith("never declared; expected P2 within 30m")


def test_a_p1_is_due_within_the_policy_figure_for_immediate() -> None:
    share, line = _declare(_evidence((6 * 60, "incident.declared", {"severity": "P1"})), "tabletop-data-breach")
    assert share == 0.25 and "expected P1 within 5m" in line and "policy: the standard's P1 response time is " \
        "'Immediate', taken as 5m" in line


def test_the_drill_can_set_the_declaration_target_and_the_partial_credit() -> None:
    text = (ROOT / "drills" / "tabletop-rate-limit.yaml").read_text()
    text = text.replace('{do: declare, severity: P2, text:', '{do: declare, severity: P2, within: 10m, text:')
    text = text.replace("  injects:\n", "  declare_credit: {corrected: 0.4, late: 0.1}\n  injects:\n", 1)
    drill = load_drill_text(text, "t.yaml")
    assert drill.tabletop is not None
    inject = next(i for i in drill.tabletop.injects if any(e.do == "declare" for e in i.expected))
    expect = next(e for e in inject.expected if e.do == "declare")
    late = _evidence((15 * 60, "incident.declared", {"severity": "P2"}))
    share, line = judge_declaration(expect, inject.id, late, default_config(), drill.tabletop)
    assert share == 0.1 and "expected P2 within 10m of the inject, wall clock (this drill's 'within')" in line
    fixed = _evidence((60, "incident.declared", {"severity": "P3"}),
                      (5 * 60, "incident.severity_changed", {"from": "P3", "to": "P2"}))
    share, _ = judge_declaration(expect, inject.id, fixed, default_config(), drill.tabletop)
    assert share == 0.4

"""The drill format: every bundled drill validates; problems are located; roster; schema; CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.drills.handout import handout_html, handout_markdown
from simulator.drills.loader import load_drill, load_drill_text
from simulator.drills.roster import build_roster
from simulator.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[3]
DRILLS = sorted((ROOT / "drills").glob("*.yaml"))
GAMEDAY = [sys.executable, "-m", "simulator"]


def test_bundled_drills_cover_every_type() -> None:
    kinds = {load_drill(p).metadata.type for p in DRILLS}
    assert kinds == {"ci", "tabletop", "game-day", "full-scale"}
    names = {p.stem for p in DRILLS}
    assert {"tabletop-pool-exhaustion", "tabletop-rate-limit", "tabletop-memory-leak", "tabletop-data-breach",
            "quarterly-game-day", "annual-full-scale", "ci-resilience"} <= names


BAD = """apiVersion: gameday/v1
kind: Drill
metadata:
  name: x
  title: t
  type: ci
scenarios:
  - scenario: pool-exhaustion
    checks:
      - {check: alert_fires_within, alert: X}
      - {check: outcom_is}
    tme_scale: 3
"""


def test_problems_are_located() -> None:
    with pytest.raises(ValidationFailed) as exc:
        load_drill_text(BAD, "bad.yaml")
    lines = exc.value.lines()
    assert "bad.yaml:10:9: scenarios[0].checks[0]: expected 'within' for check: alert_fires_within" in lines
    assert any(line.startswith("bad.yaml:11:17: scenarios[0].checks[1].check: expected one of") for line in lines)
    assert "bad.yaml:12:5: scenarios[0].tme_scale: unknown key 'tme_scale' (did you mean 'time_scale'?)" in lines


def test_cross_checks_unknown_scenario_and_team() -> None:
    text = BAD.replace("      - {check: alert_fires_within, alert: X}\n      - {check: outcom_is}\n    tme_scale: 3\n",
                       "      - {check: outcome_is, outcome: recovered}\n    team: blue\n")
    text = text.replace("scenario: pool-exhaustion", "scenario: pool-exhaustoin")
    with pytest.raises(ValidationFailed) as exc:
        load_drill_text(text, "x.yaml")
    joined = "\n".join(exc.value.lines())
    assert "x.yaml:8:15: scenarios[0].scenario: no scenario named 'pool-exhaustoin'" in joined
    assert "scenarios[0].team: unknown team 'blue'" in joined


def test_tabletop_needs_injects_and_known_checklist_items() -> None:
    text = """apiVersion: gameday/v1
kind: Drill
metadata: {name: t, title: t, type: tabletop}
tabletop:
  service: payments
  truth: {severity: P1}
  injects:
    - {id: a, at: 1m, title: x, expected: [{do: checklist, item: coffee}]}
    - {id: a, at: 0s, title: y}
"""
    with pytest.raises(ValidationFailed) as exc:
        load_drill_text(text, "t.yaml")
    joined = "\n".join(exc.value.lines())
    assert "t.yaml:8:66: tabletop.injects[0].expected[0].item: expected a checklist item" in joined


def test_faker_roster_is_seeded_and_complete() -> None:
    drill = load_drill(ROOT / "drills" / "tabletop-data-breach.yaml")
    a, b = build_roster(drill), build_roster(drill)
    assert a.to_json() == b.to_json()
    security = a.team("security")
    assert len(security.members) == 3 and security.on_call is not None
    assert security.on_call.primary == security.members[0].name
    assert security.escalation == ["CISO", "General Counsel"]
    other = build_roster(drill.model_copy(update={"seed": drill.seed + 1}))
    assert other.to_json() != a.to_json()


def test_handout_has_msel_expected_actions_and_svg() -> None:
    drill = load_drill(ROOT / "drills" / "tabletop-pool-exhaustion.yaml")
    md = handout_markdown(drill)
    assert "## Master Scenario Events List" in md and "| 9m | i4-logs | logs |" in md
    assert "Fallback processor on or roll back v2.4.0" in md
    assert "QueuePool limit of size 8" in md
    html = handout_html(drill)
    assert html.count("<svg") == 2 and "<table>" in html


def test_cli_validate_schema_and_print(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    r = subprocess.run([*GAMEDAY, "validate", str(ROOT / "drills"), str(bad)], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 2
    assert f"{bad}:12:5: scenarios[0].tme_scale" in r.stderr
    assert r.stdout.count("ok ") == len(DRILLS)
    r = subprocess.run([*GAMEDAY, "schema", "drill"], capture_output=True, text=True, cwd=ROOT)
    schema = json.loads(r.stdout)
    assert schema["title"] == "gameday drill" and "tabletop" in schema["properties"]
    r = subprocess.run([*GAMEDAY, "drill", "print", "tabletop-data-breach"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "Preserve evidence" in r.stdout


def test_start_and_shared_targets_belong_to_their_drill_types() -> None:
    text = BAD.replace("      - {check: alert_fires_within, alert: X}\n      - {check: outcom_is}\n    tme_scale: 3\n",
                       "    users: 0\n")
    with pytest.raises(ValidationFailed) as exc:
        load_drill_text(text + "start: facilitator\nshared_targets: true\n", "c.yaml")
    joined = "\n".join(exc.value.lines())
    assert "scenarios[0].users: " in joined and "greater than or equal to 1" in joined
    with pytest.raises(ValidationFailed) as exc:
        load_drill_text(text.replace("users: 0", "users: 5") + "start: facilitator\n", "c.yaml")
    assert "start: facilitator is for type: game-day, not ci" in "\n".join(exc.value.lines())
    with pytest.raises(ValidationFailed) as exc:
        load_drill_text(text.replace("users: 0", "users: 5") + "shared_targets: true\n", "c.yaml")
    assert "shared_targets is for type: full-scale, not ci" in "\n".join(exc.value.lines())


def test_users_override_reaches_the_scenario_load() -> None:
    from simulator.drills.plan import parts_of

    drill = load_drill(ROOT / "drills" / "annual-full-scale.yaml")
    payments, gateway, _ = parts_of(drill, ROOT / "drills")
    assert (payments.scenario.load.users, gateway.scenario.load.users) == (12, 10)
    assert (payments.scenario.load.workers, gateway.scenario.load.workers) == (0, 2)
    handout = handout_markdown(drill)
    assert "| 10 users, 2 Locust workers |" in handout and "**Shared services**" in handout
    assert "**Start**" in handout_markdown(load_drill(ROOT / "drills" / "quarterly-game-day.yaml"))
    assert payments.scenario.load.spawn_rate <= 12


def test_cli_drill_run_refuses_a_bad_start(tmp_path: Path) -> None:
    r = subprocess.run([*GAMEDAY, "drill", "run", "annual-full-scale", "--start", "facilitator", "--out",
                        str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "only a game day is held for the facilitator" in r.stderr
    assert "Traceback" not in r.stderr and not list(tmp_path.iterdir())
    r = subprocess.run([*GAMEDAY, "drill", "run", "quarterly-game-day", "--start", "later", "--out", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "--start: expected auto or facilitator, got 'later'" in r.stderr


def test_a_drills_monitoring_plane_reaches_each_scenario_and_a_part_may_override_it() -> None:
    from simulator.drills.plan import parts_of

    text = (ROOT / "drills" / "ci-resilience.yaml").read_text()
    drill = load_drill_text(text.replace("\nscenarios:", "\nmonitor: prometheus\nscenarios:", 1), "c.yaml")
    parts = parts_of(drill, ROOT / "drills")
    assert parts and {p.scenario.monitoring.plane for p in parts} == {"prometheus"}
    override = drill.model_copy(update={"scenarios": [drill.scenarios[0].model_copy(update={"monitor": "embedded"})]})
    assert parts_of(override, ROOT / "drills")[0].scenario.monitoring.plane == "embedded"
    plain = parts_of(load_drill_text(text, "c.yaml"), ROOT / "drills")
    assert {p.scenario.monitoring.plane for p in plain} == {"embedded"}
    with pytest.raises(ValidationFailed) as exc:
        load_drill_text(text.replace("\nscenarios:", "\nmonitor: grafana\nscenarios:", 1), "c.yaml")
    assert "monitor" in "\n".join(exc.value.lines())

"""The scenario loader: valid seeds load; each bad input is one located line, never a traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from simulator.errors import ValidationFailed
from simulator.scenario import load_scenario, load_scenario_text

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"

MINIMAL = """\
apiVersion: gameday/v1
kind: Scenario
metadata:
  name: tiny
  title: Tiny
truth:
  severity: P2
  root_cause: a bug
  root_cause_keywords: [bug]
  accepted_mitigations: [rollback:payments]
targets:
  - name: payments
    app: payments
faults:
  - at: 30s
    kind: app.release
    target: payments
    params: {version: v2.4.0-leaky}
timing:
  max_duration: 5m
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        load_scenario_text(textwrap.dedent(text), "x.yaml")
    return info.value.lines()


@pytest.mark.parametrize("name", ["pool-exhaustion", "rate-limit-misconfig", "memory-leak"])
def test_seed_scenarios_load(name: str) -> None:
    s = load_scenario(SCENARIOS / f"{name}.yaml")
    assert s.metadata.name == name
    assert s.faults and s.responder.runbook
    assert s.truth.accepted_mitigations
    assert len(s.truth.causal_chain) >= 3 and all(link.phrases for link in s.truth.causal_chain)


def test_minimal_loads_with_durations() -> None:
    s = load_scenario_text(MINIMAL)
    assert s.faults[0].at == 30.0
    assert s.timing.max_duration == 300.0
    assert s.fault_id(0) == "f1-app-release"


def test_bad_duration_names_line_column_and_path() -> None:
    lines = problems(MINIMAL.replace("at: 30s", "at: soon"))
    assert lines == ["x.yaml:15:9: faults[0].at: expected a duration like '30s' (units: ms, s, m, h, d, w), "
                     "got 'soon'"]


def test_unknown_key_suggests() -> None:
    [line] = problems(MINIMAL.replace("  title: Tiny", "  title: Tiny\n  titel: typo"))
    assert line.startswith("x.yaml:6:3: metadata.titel: unknown key 'titel'")
    assert "did you mean 'title'" in line


def test_duplicate_key() -> None:
    [line] = problems(MINIMAL.replace("  title: Tiny", "  title: Tiny\n  title: Again"))
    assert line == "x.yaml:6:3: metadata.title: duplicate key 'title' (first defined at line 5)"


def test_tabs() -> None:
    [line] = problems(MINIMAL.replace("  title: Tiny", "\ttitle: Tiny"))
    assert line.startswith("x.yaml:5:")
    assert "tab" in line


def test_empty_file() -> None:
    assert problems("") == ["x.yaml:1:1: empty file: expected a YAML mapping"]
    assert problems("# only a comment\n") == ["x.yaml:1:1: empty file: expected a YAML mapping"]


def test_list_where_map_belongs() -> None:
    [line] = problems(MINIMAL.replace("timing:\n  max_duration: 5m", "timing:\n  - max_duration: 5m"))
    assert line == "x.yaml:20:3: timing: expected a mapping, got a list"


def test_top_level_list() -> None:
    assert problems("- a\n- b\n") == ["x.yaml:1:1: expected a mapping at the top level, got a list"]


def test_fault_names_undeclared_target() -> None:
    [line] = problems(MINIMAL.replace("    target: payments", "    target: paymnts"))
    assert line.startswith("x.yaml:17:13: faults[0].target: fault names target 'paymnts', which is not declared")


def test_fault_after_max_duration() -> None:
    [line] = problems(MINIMAL.replace("at: 30s", "at: 10m"))
    assert line == "x.yaml:15:9: faults[0].at: fault scheduled at 600s, after timing.max_duration (300s)"


def test_unknown_fault_kind() -> None:
    [line] = problems(MINIMAL.replace("kind: app.release", "kind: app.relase"))
    assert line.startswith("x.yaml:16:11: faults[0].kind: unknown fault kind 'app.relase' "
                           "(did you mean 'app.release'?)")


def test_bad_fault_params_are_located() -> None:
    lines = problems(MINIMAL.replace("params: {version: v2.4.0-leaky}", "params: {versoin: v2.4.0-leaky}"))
    assert "x.yaml:18:13: faults[0].params.version: missing required key 'version'" in lines
    assert any(x.startswith("x.yaml:18:14: faults[0].params.versoin: unknown key 'versoin'") for x in lines)


def test_all_errors_reported_not_just_first() -> None:
    text = MINIMAL.replace("severity: P2", "severity: P5").replace("at: 30s", "at: soon")
    lines = problems(text)
    assert len(lines) == 2
    assert any("truth.severity: expected one of 'P1', 'P2', 'P3', 'P4', got 'P5'" in x for x in lines)
    assert any("faults[0].at" in x for x in lines)


def test_missing_required_key() -> None:
    [line] = problems(MINIMAL.replace("  root_cause: a bug\n", ""))
    assert line == "x.yaml:7:3: truth.root_cause: missing required key 'root_cause'"


def test_wrong_kind() -> None:
    [line] = problems(MINIMAL.replace("kind: Scenario", "kind: Drill"))
    assert line == "x.yaml:2:7: kind: expected kind 'Scenario', got 'Drill'"


def test_invalid_yaml_syntax() -> None:
    [line] = problems("a: [1, 2\nb: 3\n")
    assert line.startswith("x.yaml:") and "invalid YAML" in line


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert info.value.lines() == [f"{tmp_path / 'nope.yaml'}: no such file"]


def test_runbook_ops_action_is_checked_where_it_is_written() -> None:
    runbook = "responder:\n  runbook:\n    - {after: 5s, do: ops, action: 'rolback:payments'}\n"
    [line] = problems(MINIMAL + runbook)
    assert line.startswith("x.yaml:23:36: responder.runbook[0].action: expected an ops action like "
                           "'rollback:payments'")
    [line] = problems(MINIMAL + runbook.replace("rolback:payments", "rollback:paymnts"))
    assert line.endswith("responder.runbook[0].action: action names target 'paymnts', which is not declared")


def chain(entries: str) -> str:
    return MINIMAL.replace("  accepted_mitigations: [rollback:payments]\n",
                           "  accepted_mitigations: [rollback:payments]\n  causal_chain:\n" + entries)


def test_causal_chain_loads() -> None:
    s = load_scenario_text(chain("    - {name: leak, phrases: [connection leak, connections not returned]}\n"))
    [link] = s.truth.causal_chain
    assert (link.name, link.phrases) == ("leak", ["connection leak", "connections not returned"])
    assert load_scenario_text(MINIMAL).truth.causal_chain == []


def test_causal_chain_unknown_key_is_located() -> None:
    lines = problems(chain("    - name: leak\n      phrase: [connection leak]\n"))
    assert "x.yaml:13:7: truth.causal_chain[0].phrase: unknown key 'phrase' (did you mean 'phrases'?)" in lines
    assert "x.yaml:12:7: truth.causal_chain[0].phrases: missing required key 'phrases'" in lines


def test_causal_chain_bad_entries_are_located() -> None:
    assert problems(chain("    - {name: leak, phrases: []}\n")) == [
        "x.yaml:12:29: truth.causal_chain[0].phrases: expected at least 1 item(s), got none"]
    assert problems(chain("    - {name: leak, phrases: ['  ']}\n")) == [
        "x.yaml:12:29: truth.causal_chain[0].phrases: expected phrases with words in them, got an empty one"]
    assert problems(chain("    - connection leak\n")) == [
        "x.yaml:12:7: truth.causal_chain[0]: expected a mapping, got 'connection leak'"]
    assert problems(chain("    - {name: leak, phrases: [a]}\n    - {name: leak, phrases: [b]}\n")) == [
        "x.yaml:12:5: truth.causal_chain: expected one link per name, got 'leak' twice"]

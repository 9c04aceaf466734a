"""``targets[].standby`` and the failover action in a scenario: every mistake one located line, exit 2; the docker
backend refuses a standby naming the field."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.scenario import load_scenario
from simulator.targets.backends import refuse_local_only
from simulator.targets.spec import specs_from_scenario
from tests.unit.scenario.test_own_service_format import line_of, problems  # edit a copy, expect located lines

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "link-latency" / "link-latency.yaml"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    path = tmp_path / "link-latency.yaml"
    shutil.copy(EXAMPLE, path)
    return path


def test_the_example_declares_a_standby_for_payments_and_accepts_its_failover(example: Path) -> None:
    s = load_scenario(example)
    assert s.target("payments").standby is True and s.target("gateway").standby is False
    assert s.truth.accepted_mitigations == ["failover:payments"]
    assert [f.target for f in s.faults] == ["gateway->payments"]
    assert [spec["standby"] for spec in specs_from_scenario(s)] == [True, False]


def test_a_standby_that_is_not_true_or_false(example: Path) -> None:
    found = problems(example, "standby: true ", "standby: 2 ")
    assert found == [f"{example}:{line_of(example, 'standby: 2')}:14: targets[0].standby: expected true or false, "
                     "got 2"]


def test_a_failover_to_a_target_without_a_standby_is_located_where_it_is_named(example: Path) -> None:
    found = problems(example, "    standby: true ", "    # no standby ")
    action_line = line_of(example, 'action: "failover:payments"')
    accepted_line = line_of(example, "    - failover:payments ")
    assert found == [
        f"{example}:{action_line}:37: responder.runbook[13].action: failover:payments needs a target with "
        "'standby: true' (targets with one: none)",
        f"{example}:{accepted_line}:7: truth.accepted_mitigations[0]: failover:payments needs a target with "
        "'standby: true' (targets with one: none)"]


def test_a_failover_to_a_side_that_does_not_exist(example: Path) -> None:
    found = problems(example, '"failover:payments"', '"failover:payments=secondary"')
    assert len(found) == 1 and found[0].startswith(f"{example}:{line_of(example, 'secondary')}:")
    assert found[0].endswith("responder.runbook[13].action: expected failover:TARGET (to its standby) or "
                             "failover:TARGET=primary (back), got 'failover:payments=secondary'")


def test_the_docker_backend_refuses_a_standby_naming_the_field(example: Path) -> None:
    specs = specs_from_scenario(load_scenario(example))
    refuse_local_only("local", specs)  # the local backend runs it
    with pytest.raises(InputError) as err:
        refuse_local_only("docker", specs)
    assert str(err.value) == ("target payments: targets[].standby (a standby instance for 'gameday ops failover') "
                              "runs on the local backend only; run with --backend local, or drop 'standby' for "
                              "--backend docker")
    refuse_local_only("docker", [s for s in specs if not s["standby"]])


def test_targets_up_on_docker_with_a_standby_is_exit_2_and_one_line(example: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "simulator", "targets", "up", str(example), "--backend", "docker",
                        "--out", str(tmp_path / "runs")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "GAMEDAY_HOME": str(tmp_path / "home")})
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == ["error: target payments: targets[].standby (a standby instance for "
                                             "'gameday ops failover') runs on the local backend only; run with "
                                             "--backend local, or drop 'standby' for --backend docker"]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())

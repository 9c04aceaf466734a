"""The Kinto-on-PostgreSQL example (``examples/kinto``): it validates, its drill validates, and each mistake in
the fields it uses (``health: tcp``, ``{addr:NAME}``, ``{data}``) is one line naming file:line:col."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.drills.loader import load_drill
from simulator.scenario import load_scenario
from simulator.targets.command import fill, health_url, healthy
from tests.helpers.scenario_edits import copy_example, line_of, problems

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "kinto"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example(EXAMPLE, tmp_path / "kinto") / "kinto.yaml"


def test_the_example_and_its_drill_load(example: Path) -> None:
    s = load_scenario(example)
    pg, kinto = s.target("postgres"), s.target("kinto")
    assert pg.command is not None and pg.command.health == "tcp"
    assert kinto.command is not None and kinto.depends_on == ["postgres"]
    assert kinto.command.link_uses() == [("addr", "postgres"), ("addr", "postgres")]
    assert kinto.release_names == ["config-41", "config-42", "config-43"]
    drill = load_drill(example.parent / "game-day.yaml")
    assert drill.metadata.type == "game-day" and len(drill.scenarios) == 1


def test_gameday_validate_passes_on_the_shipped_example() -> None:
    r = subprocess.run([sys.executable, "-m", "simulator", "validate", str(EXAMPLE)], capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 valid, 0 invalid" in r.stdout


@pytest.mark.parametrize(("old", "new", "where", "expected"), [
    ("health: tcp ", "health: TCP ", "health: TCP",
     "targets[0].command.health: expected the health check as an absolute URL path like '/health', or 'tcp'"),
    ('"{data}"', '"{dta}"', "postgres.sh",
     "targets[0].command.argv: expected a placeholder among {port}, {host}, {python}, {url:NAME}, {addr:NAME}, "
     "{data}, got {dta}"),
    ("@{addr:postgres}/postgres\"     #", "@{addr}/postgres\"     #", "KINTO_STORAGE_URL",
     "targets[1].command.env: expected {addr:NAME} with a dependency name, got {addr}"),
    ("@{addr:postgres}/postgres\"     #", "@{data:postgres}/postgres\"     #", "KINTO_STORAGE_URL",
     "targets[1].command.env: expected {url:NAME} or {addr:NAME} (the dependency NAME's link) or a placeholder "
     "without ':', got {data:postgres}"),
    ("    depends_on: [postgres]", "    depends_on: []", "- name: kinto",
     "targets[1].command: {addr:postgres} names a target that is not in depends_on (none)"),
    ("params: {version: config-42}", "params: {version: config-24}", "params:",
     "faults[0].params.version: expected a release of kinto (config-41, config-42, config-43), got 'config-24'"),
])
def test_each_mistake_is_one_located_line(example: Path, old: str, new: str, where: str, expected: str) -> None:
    found = problems(example, old, new)
    hit = next((p for p in found if expected in p), None)
    assert hit is not None, found
    file, line, col = hit.split(":")[:3]
    assert file == str(example) and int(line) >= line_of(example, where) - 3 and int(col) >= 1, hit


def test_gameday_validate_on_a_broken_copy_exits_2_with_the_location(example: Path) -> None:
    example.write_text(example.read_text().replace("health: tcp ", "health: tpc ", 1))
    r = subprocess.run([sys.executable, "-m", "simulator", "validate", str(example.parent)], capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{example}:{line_of(example, 'health: tpc')}:" in r.stdout + r.stderr
    assert "'tcp'" in r.stdout + r.stderr and "Traceback" not in r.stderr


def test_placeholders_and_the_tcp_health_check(tmp_path: Path) -> None:
    links = {"postgres": "http://127.0.0.1:5999"}
    assert fill("postgresql://kinto@{addr:postgres}/db", 1, links) == "postgresql://kinto@127.0.0.1:5999/db"
    assert fill("{data}/cluster", 1, links, tmp_path) == f"{tmp_path}/cluster"
    assert health_url("http://127.0.0.1:7000", "tcp") == "tcp://127.0.0.1:7000"
    assert health_url("http://127.0.0.1:7000", "/v1/__heartbeat__") == "http://127.0.0.1:7000/v1/__heartbeat__"
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert healthy(f"tcp://127.0.0.1:{port}") == (True, "TCP connection accepted")
    ok, why = healthy(f"tcp://127.0.0.1:{port}")  # closed now: refused
    assert ok is False and why.startswith("TCP "), why


def test_a_run_folders_copy_is_scored_with_its_steady_state_probes(tmp_path: Path) -> None:
    """The run folder holds a copy of the scenario, without the locustfile its ``load.locustfile`` names: scoring
    still reads its probes and timing (the attribution window and the cooldown depend on them)."""
    from simulator.rundir import RunDir
    from simulator.scoring.rundata import _load_scenario

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(EXAMPLE / "kinto.yaml", RunDir(run).scenario)
    warnings: list[str] = []
    s = _load_scenario(run, None, warnings)
    assert s is not None and [p.window for p in s.steady_state] == [30.0] and warnings == []
    assert float(s.timing.cooldown) == 30.0

"""Hostile input files against the real CLI, in a subprocess held to a small memory and CPU budget.

Each attack must end as exit 2 and one ``error:`` line naming the file and the limit it broke. The budget is
set with resource limits (``RLIMIT_AS``, ``RLIMIT_CPU``), not a timer: on the old loader an alias bomb or
``/dev/zero`` ran out of address space (MemoryError, exit 1) and a 50 MB file or 2 million keys ran out of
CPU (SIGXCPU), so each case here failed there; the bounded loader stays far inside the budget.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.bounded import MAX_YAML_BYTES
from simulator.scenario.yamlpos import MAX_ALIASES, MAX_DEPTH, MAX_NODES, parse_yaml

ROOT = Path(__file__).resolve().parents[3]
#: the budget a hostile file gets: address space and CPU seconds. The CLI starts in ~90 MB resident (~300 MB of
#: address space with its libraries); the old loader needed gigabytes and minutes for these files.
BUDGET_BYTES = 500 << 20
BUDGET_CPU_SECONDS = 40

LAUGHS = "".join(
    [f'{c}: &{c} ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' if c == "a" else
     f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]\n" for p, c in zip(" abcdefgh", "abcdefghi", strict=True)])


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (BUDGET_BYTES, BUDGET_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (BUDGET_CPU_SECONDS, BUDGET_CPU_SECONDS))


def gameday(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, within the budget. The timeout only keeps a hang from stalling the suite."""
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "GAMEDAY_HOME": str(home)}, preexec_fn=_limits, timeout=300)


def _errors(r: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in r.stderr.splitlines() if line.strip()]


def _merge_bomb() -> str:
    lines = ["a0: &a0 {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x}"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} {{" + ", ".join(f"m{j}: {{<<: *a{i - 1}}}" for j in range(9)) + "}")
    return "\n".join(lines) + "\n"


def _merge_list_bomb() -> str:
    lines = ["a0: &a0 {k0: x}"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} {{" + ", ".join(f"m{j}: *a{i - 1}" for j in range(9)) + f", <<: *a{i - 1}}}")
    return "\n".join(lines) + "\n"


def _write(path: Path, case: str) -> str:
    """Write the attack ``case`` to ``path``; the words its one error line must contain."""
    if case == "alias-bomb":
        path.write_text(LAUGHS)
        return f"more than {MAX_NODES} values"
    if case == "laughs-in-scenario":  # the bomb inside an otherwise plausible scenario
        path.write_text("apiVersion: gameday/v1\nkind: Scenario\n" + LAUGHS + "metadata: {name: x, title: *i}\n")
        return f"more than {MAX_NODES} values"
    if case == "wide-laughs":  # few levels, wide: the count, not the depth, stops it
        path.write_text("a: &a [" + ",".join(["x"] * 300) + "]\nb: &b [" + ",".join(["*a"] * 300) + "]\n")
        return f"more than {MAX_NODES} values"
    if case == "many-aliases":
        path.write_text("a: &a x\nb: [" + ",".join(["*a"] * (MAX_ALIASES + 5)) + "]\n")
        return f"more than {MAX_ALIASES} aliases"
    if case == "merge-bomb":
        path.write_text(_merge_bomb())
        return f"more than {MAX_NODES} values"
    if case == "merge-list-bomb":
        path.write_text(_merge_list_bomb())
        return f"more than {MAX_NODES} values"
    if case == "recursive-alias":
        path.write_text("a: &a [1, *a]\n")
        return "an alias refers to a list or mapping that contains it"
    if case == "dev-zero":
        path.symlink_to("/dev/zero")
        return "not a regular file"
    if case == "fifo":
        os.mkfifo(path)
        return "not a regular file"
    if case == "50MB":
        with path.open("w") as fh:
            fh.write("apiVersion: gameday/v1\nkind: Scenario\nmetadata:\n  name: big\n  title: '")
            for _ in range(50):
                fh.write("a" * (1 << 20))
            fh.write("'\n")
        return "larger than the 1 MiB limit for this file (policy MAX_YAML_BYTES)"
    if case == "2M-keys":
        with path.open("w") as fh:
            fh.writelines(f"k{i}: {i}\n" for i in range(2_000_000))
        return "larger than the 1 MiB limit"
    if case == "many-values-under-the-size-cap":
        path.write_text("[" + ",".join(["a"] * (MAX_YAML_BYTES // 3)) + "]\n")
        return f"more than {MAX_NODES} values"
    if case == "100k-deep-flow-list":
        path.write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
        return f"nested deeper than {MAX_DEPTH} levels"
    if case == "100k-deep-flow-map":
        path.write_text("a: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n")
        return f"nested deeper than {MAX_DEPTH} levels"
    if case == "deep-block-lists":
        path.write_text("".join("  " * i + "-\n" for i in range(200)) + "  " * 200 + "- x\n")
        return f"nested deeper than {MAX_DEPTH} levels"
    raise AssertionError(case)


CASES = ["alias-bomb", "laughs-in-scenario", "wide-laughs", "many-aliases", "merge-bomb", "merge-list-bomb",
         "recursive-alias", "dev-zero", "fifo", "50MB", "2M-keys",
         pytest.param("many-values-under-the-size-cap", marks=pytest.mark.slow),
         "100k-deep-flow-list", "100k-deep-flow-map", "deep-block-lists"]


@pytest.mark.parametrize("case", CASES)
def test_validate_refuses_a_hostile_file_in_one_line_within_the_budget(tmp_path: Path, case: str) -> None:
    path = tmp_path / f"{case}.yaml"
    expected = _write(path, case)
    r = gameday("validate", str(path), home=tmp_path / "home")
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    errors = _errors(r)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"error: {path}"), errors
    assert expected in errors[0], errors
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


@pytest.mark.parametrize("command", ["show", "run"])
def test_show_and_run_refuse_the_alias_bomb_before_anything_starts(tmp_path: Path, command: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(LAUGHS)
    r = gameday(command, str(path), home=tmp_path / "home")
    assert r.returncode == 2, r.stderr[-500:]
    assert _errors(r) == [f"error: {path}:5:23: e[5]: aliases expand to more than {MAX_NODES} values "
                          "(policy MAX_NODES)"]
    assert not (tmp_path / "home" / "runs").exists() or not any((tmp_path / "home" / "runs").iterdir())


def test_score_of_a_run_whose_scenario_is_a_bomb_uses_the_journal_instead(tmp_path: Path) -> None:
    from tests.helpers.scoring_kit import RunKit, exemplary

    kit = RunKit(tmp_path / "run")
    exemplary(kit).close()
    run = kit.write()
    (run / "scenario.yaml").write_text(LAUGHS)
    r = gameday("score", str(run), home=tmp_path / "home")
    assert r.returncode == 0, r.stderr[-800:]
    assert f"more than {MAX_NODES} values" in r.stdout + r.stderr
    assert "internal error" not in r.stderr


def test_aliases_within_the_limits_still_load_and_are_shared_not_copied() -> None:
    text = ("base: &base {timeout: 2s, retries: 3}\n"
            "a: {<<: *base, retries: 5}\n"
            "b: *base\n"
            "c: [*base, *base]\n")
    data, positions = parse_yaml(text, "ok.yaml")
    assert data["a"] == {"timeout": "2s", "retries": 5}
    assert data["b"] == {"timeout": "2s", "retries": 3}
    assert data["c"][0] is data["b"]  # reused, never rebuilt
    assert positions.of_key(("a", "timeout")) == (1, 14)  # a merged key points at where it is written


# ------------------------------------------------------------------------------------------ run folders
def _kit_run(tmp_path: Path) -> Path:
    from tests.helpers.scoring_kit import RunKit, exemplary

    kit = RunKit(tmp_path / "run")
    exemplary(kit).close()
    return kit.write()


def _damage(journal: Path, case: str) -> None:
    import json

    lines = journal.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    if case == "nan-times":
        records[3]["wall"], records[5]["game"] = float("nan"), float("inf")
        lines = [json.dumps(r) for r in records]  # Python writes NaN/Infinity, which strict JSON refuses
    elif case == "wrong-types":
        records[2]["seq"], records[3]["wall"], records[4]["data"] = "two", "noon", [1, 2]
        records[5]["kind"], records[6]["game"] = 7, {"a": 1}
        lines = [json.dumps(r) for r in records]
    elif case == "100k-deep-line":
        lines.insert(3, "[" * 100_000 + "]" * 100_000)
    elif case == "100k-deep-data":
        lines.insert(3, '{"seq":3,"wall":1776938400.0,"game":1.0,"kind":"incident.note","data":{"x":'
                     + "[" * 100_000 + "]" * 100_000 + "}}")
    elif case == "not-objects":
        lines[3:3] = ["42", "[1,2,3]", '"text"', "null"]
    elif case == "5MB-line":  # longer than MAX_LINE_BYTES: read past in chunks, never held
        lines.insert(3, '{"seq":3,"wall":1776938400.0,"game":1.0,"kind":"incident.note","data":{"x":"'
                     + "a" * (5 << 20) + '"}}')
    journal.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("case", ["nan-times", "wrong-types", "100k-deep-line", "100k-deep-data", "not-objects",
                                  "5MB-line"])
def test_score_skips_damaged_journal_lines_with_one_warning(tmp_path: Path, case: str) -> None:
    """A journal is appended by several processes and outlives them: one damaged line must not make the whole
    run unscorable. It is skipped, and one warning line says how many and why (the first)."""
    run = _kit_run(tmp_path)
    _damage(run / "journal.jsonl", case)
    r = gameday("score", str(run), home=tmp_path / "home")
    assert r.returncode == 0, r.stderr[-800:]
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"{run / 'journal.jsonl'}: skipped" in warnings[0], r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("supervisor, expected", [
    ({"pid": -1, "create_time": None}, "supervisor.pid: expected a positive whole number or null, got -1"),
    ({"pid": "1", "create_time": None}, "supervisor.pid: expected a positive whole number or null, got '1'"),
    ({"pid": 1, "create_time": "no"}, "supervisor.create_time: expected a finite number or null, got 'no'"),
    ([1, 2], "supervisor: expected a JSON object, got list"),
])
def test_cleanup_of_a_folder_with_a_damaged_targets_json_is_one_line_exit_2(tmp_path: Path, supervisor: object,
                                                                            expected: str) -> None:
    import json

    run = _kit_run(tmp_path)
    (run / "targets.json").write_text(json.dumps({"run_id": "x", "backend": "local", "supervisor": supervisor,
                                                  "targets": {}}))
    r = gameday("cleanup", "--run", str(run), home=tmp_path / "home")
    assert r.returncode == 2, r.stderr
    assert _errors(r) == [f"error: {run / 'targets.json'}: {expected}"]


def test_a_targets_json_that_is_dev_zero_is_refused(tmp_path: Path) -> None:
    run = _kit_run(tmp_path)
    (run / "targets.json").symlink_to("/dev/zero")
    r = gameday("cleanup", "--run", str(run), home=tmp_path / "home")
    assert r.returncode == 2, r.stderr[-500:]
    assert _errors(r) == [f"error: {run / 'targets.json'}: not a regular file (a device, FIFO or socket); "
                          "expected a file"]

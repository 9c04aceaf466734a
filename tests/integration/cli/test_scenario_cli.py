"""The scenario commands as a user runs them: real subprocesses, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[3]
GAMEDAY = [sys.executable, "-m", "simulator"]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GAMEDAY, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_validate_bundled_scenarios() -> None:
    r = run("validate", "scenarios/")
    assert r.returncode == 0, r.stderr
    assert "3 valid, 0 invalid" in r.stdout


def test_validate_reports_every_bad_file_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: gameday/v1\nkind: Scenario\nmetadata: []\n")
    (tmp_path / "b.yaml").write_text("")
    (tmp_path / "good.yaml").write_text((ROOT / "scenarios" / "pool-exhaustion.yaml").read_text())
    r = run("validate", str(tmp_path), "--json")
    assert r.returncode == 2
    out = json.loads(r.stdout)
    bad = {Path(f["file"]).name: f["errors"] for f in out["files"] if not f["ok"]}
    assert set(bad) == {"a.yaml", "b.yaml"}
    assert any("metadata: expected a mapping, got a list" in e for e in bad["a.yaml"])
    assert "Traceback" not in r.stderr


def test_validate_plain_output_one_line_per_error(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_text((ROOT / "scenarios" / "pool-exhaustion.yaml").read_text().replace("at: 2m", "at: soon"))
    r = run("validate", str(f))
    assert r.returncode == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "faults[0].at: expected a duration like '30s'" in errors[0]
    assert f"{f}:" in errors[0]


def test_validate_bad_causal_chain_is_located_exit_2(tmp_path: Path) -> None:
    seed = (ROOT / "scenarios" / "pool-exhaustion.yaml").read_text()
    assert "      phrases: [v2.4.0," in seed
    f = tmp_path / "x.yaml"
    f.write_text(seed.replace("      phrases: [v2.4.0,", "      phrase: [v2.4.0,", 1))
    r = run("validate", str(f))
    assert r.returncode == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    line = next(n for n, text in enumerate(seed.splitlines(), start=1) if "phrases: [v2.4.0," in text)
    assert f"error: {f}:{line}:7: truth.causal_chain[0].phrase: unknown key 'phrase' (did you mean 'phrases'?)" \
        in errors
    assert "Traceback" not in r.stderr


def test_list_json() -> None:
    r = run("list", "--json")
    assert r.returncode == 0
    names = {e["name"] for e in json.loads(r.stdout) if e["kind"] == "Scenario"}
    assert {"pool-exhaustion", "rate-limit-misconfig", "memory-leak"} <= names


def test_show_hides_truth_unless_revealed() -> None:
    r = run("show", "pool-exhaustion")
    assert r.returncode == 0
    assert "leaky-release" in r.stdout and "app.release" in r.stdout
    assert "Truth" not in r.stdout
    r2 = run("show", "pool-exhaustion", "--reveal")
    assert "Truth" in r2.stdout and "rollback:payments" in r2.stdout


def test_show_unknown_scenario_exit_2() -> None:
    r = run("show", "no-such-thing")
    assert r.returncode == 2
    assert "no scenario named 'no-such-thing'" in r.stderr
    assert "Traceback" not in r.stderr


def test_schema_is_valid_and_accepts_seeds() -> None:
    r = run("schema", "scenario")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    for f in (ROOT / "scenarios").glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(f.read_text()), schema)
    bad = yaml.safe_load((ROOT / "scenarios" / "pool-exhaustion.yaml").read_text())
    bad["surprise"] = 1
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("schema accepted an unknown top-level key")


def test_schema_unknown_format_exit_2() -> None:
    r = run("schema", "nonsense")
    assert r.returncode == 2 and "expected one of" in r.stderr


def test_wrong_flag_exit_2() -> None:
    r = run("list", "--nope")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr

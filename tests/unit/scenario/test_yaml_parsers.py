"""YAML is composed on libyaml's parser (PyYAML's C extension) where it is installed, on PyYAML's pure-Python one
where not: both must read every bundled file to the same data and positions, and refuse bad input at the same
line and column (the wording of a syntax error is the parser's own), with our own words for a tab."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

READ_ALL = r"""
import json, sys
from pathlib import Path
if sys.argv[1] == "pure":
    sys.modules["yaml._yaml"] = None  # as where PyYAML was built without libyaml
from simulator.scenario import yamlpos
root = Path(sys.argv[2])
files = sorted(str(p.relative_to(root)) for pattern in ("scenarios/*.yaml", "drills/*.yaml", "examples/**/*.yaml",
                                                      "examples/**/*.yml") for p in root.glob(pattern))
bad = json.loads(sys.argv[3])
out = {"parser": yamlpos._PARSER[0].__name__, "files": {}, "bad": {}}
for name in files:
    data, pos = yamlpos.load_yaml_file(root / name)
    out["files"][name] = [data, sorted([[str(k) for k in p], v] for p, v in pos.values.items()),
                          sorted([[str(k) for k in p], v] for p, v in pos.keys.items())]
for name, text in bad.items():
    try:
        out["bad"][name] = ["read", yamlpos.parse_yaml(text, name)[0]]
    except yamlpos.YamlProblem as exc:
        p = exc.problem
        out["bad"][name] = [p.line, p.column, p.message]
print(json.dumps(out, default=str))
"""

BAD = {
    "tab indent": "a:\n\tb: 1\n",
    "two colons": "a: b: c\n",
    "unclosed list": "a: [1, 2\nb: 3\n",
    "duplicate key": "a: 1\na: 2\n",
    "bad indent": "a:\n  b: 1\n c: 2\n",
    "unclosed quote": "a: 'x\nb: 1\n",
    "unknown alias": "a: *nope\n",
    "deep flow": "a: " + "[" * 100 + "]" * 100 + "\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "merge": "x: &x {a: 1}\ny: {<<: *x, b: 2}\n",
    "bom": "\ufeffa: 1\n",
}


def _read_all(parser: str) -> dict:
    done = subprocess.run([sys.executable, "-c", READ_ALL, parser, str(ROOT), json.dumps(BAD)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_both_parsers_read_the_same_and_refuse_at_the_same_place() -> None:
    fast, pure = _read_all("libyaml"), _read_all("pure")
    assert (fast["parser"], pure["parser"]) == ("CParser", "Reader")  # the two paths, really taken
    assert len(fast["files"]) >= 15 and fast["files"] == pure["files"]
    for name in BAD:
        assert fast["bad"][name][:2] == pure["bad"][name][:2], (name, fast["bad"][name], pure["bad"][name])
    assert fast["bad"]["duplicate key"] == pure["bad"]["duplicate key"]
    assert fast["bad"]["merge"] == pure["bad"]["merge"] == ["read", {"x": {"a": 1}, "y": {"a": 1, "b": 2}}]
    for result in (fast, pure):
        assert result["bad"]["tab indent"] == [2, 1, "invalid YAML: found a tab character; indent YAML with spaces"]
        assert result["bad"]["deep flow"][2] == "nested deeper than 64 levels (policy MAX_DEPTH)"

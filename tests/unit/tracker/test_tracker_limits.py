"""The intake checks and the defensive readers on values an attacker or a damaged row would hold."""

from __future__ import annotations

import json

from simulator.tracker import limits


def _deep(n: int) -> object:
    return json.loads("[" * n + "]" * n)


def test_json_problem_names_depth_size_keys_text_and_nan_without_recursion():
    assert limits.json_problem({"a": {"b": [1, "x", None, True, 1.5]}}) is None
    assert "deeper than" in limits.json_problem(_deep(limits.MAX_JSON_DEPTH + 1))
    assert "deeper than" in limits.json_problem(_deep(900))  # far past Python's recursion limit of nested lists
    assert "entries" in limits.json_problem(list(range(limits.MAX_KEYS + 1)))
    assert "bytes" in limits.json_problem({"k": "x" * limits.MAX_JSON_BYTES})
    assert "surrogate" in limits.json_problem({"k": "a\ud800"})
    assert "surrogate" in limits.json_problem({"a\udfff": 1})
    assert "NUL" in limits.json_problem(["a\x00"])
    assert "NaN" in limits.json_problem({"n": float("nan")})
    assert "not JSON" in limits.json_problem({"s": {1, 2}})


def test_stored_json_cleans_instead_of_failing():
    clean = limits.stored_json({"k\ud800": ["v\x00\udc00", float("inf"), _deep(limits.MAX_JSON_DEPTH + 5)]})
    assert clean["k\ufffd"][0] == "v\ufffd" and clean["k\ufffd"][1] == "inf"
    text = json.dumps(clean)  # serialisable, and cut at the depth limit
    assert "not shown" in text and text.count("[") <= limits.MAX_JSON_DEPTH + 1
    assert limits.stored_map([1, 2]) == {"value": [1, 2]} and limits.stored_map(None) == {}


def test_links_are_http_or_https_only():
    assert limits.is_link("https://runbooks.example/x") and limits.is_link("http://127.0.0.1:9090/graph")
    for bad in ("javascript:alert(1)", "JAVASCRIPT:x", "data:text/html,x", "//evil", "http://", "file:///etc/passwd",
                " javascript:alert(1)"):
        assert not limits.is_link(bad), bad
    assert limits.stored_link("javascript:alert(1)") is None
    assert limits.stored_run_url("/srv/runs/r1") == "/srv/runs/r1" and limits.stored_run_url("//x/y") is None

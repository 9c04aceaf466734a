"""Property-based: random and mutated YAML only ever yields a Scenario or our ValidationFailed."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import ValidationFailed
from simulator.scenario import load_scenario_text
from simulator.scenario.model import Scenario

SEED = (Path(__file__).resolve().parents[3] / "scenarios" / "pool-exhaustion.yaml").read_text()
SEED_DATA = yaml.safe_load(SEED)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(["30s", "5m", "soon", "P1", "-1s", "1e309", "~"]))
json_like = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                         max_leaves=12)


def _load(text: str) -> None:
    try:
        result = load_scenario_text(text, "fuzz.yaml")
    except ValidationFailed as exc:
        assert exc.lines() and all(line.startswith("fuzz.yaml") for line in exc.lines())
        assert all("\n" not in line for line in exc.lines())
    else:
        assert isinstance(result, Scenario)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _load(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_as_text(data: bytes) -> None:
    _load(data.decode("utf-8", errors="replace"))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(SEED) - 1), st.integers(0, 20), st.text(max_size=10))
def test_mutated_seed_text(pos: int, cut: int, insert: str) -> None:
    _load(SEED[:pos] + insert + SEED[pos + cut:])


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(SEED_DATA) if p]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ALL_PATHS), json_like)
def test_mutated_seed_structure(path, value) -> None:
    import copy

    data = copy.deepcopy(SEED_DATA)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    _load(yaml.safe_dump(data, allow_unicode=True))

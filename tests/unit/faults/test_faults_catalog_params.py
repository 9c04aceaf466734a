"""The fault catalog's parameter models: what is accepted, normalised, and refused (one line each)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.cli.cmd_fault import parse_params
from simulator.errors import InputError, ValidationFailed
from simulator.faults.catalog import FAULT_KINDS
from simulator.faults.engine import validate_params
from simulator.faults.families import FAMILIES
from simulator.proxy.toxics import TOXIC_TYPES

#: one valid example per kind: every kind the catalog lists must be drivable
EXAMPLES: dict[str, dict[str, Any]] = {
    "app.release": {"version": "v2.4.0-leaky"},
    "app.config": {"values": {"tiers.major.rate": 2}},
    "app.flag": {"name": "fallback_processor", "value": True},
    "app.leak_rate": {"bytes_per_request": "64KiB"},
    "proxy.latency": {"latency": 200, "jitter": 20},
    "proxy.bandwidth": {"rate": 10},
    "proxy.slow_close": {"delay": 100},
    "proxy.timeout": {"timeout": 0},
    "proxy.reset_peer": {"timeout": 10},
    "proxy.slicer": {"average_size": 64, "size_variation": 8, "delay": 100},
    "proxy.limit_data": {"bytes": 1000},
    "proxy.down": {},
    "process.pause": {},
    "process.kill": {"signal": "SIGTERM"},
    "process.restart": {},
    "process.cpu_hog": {"workers": 2},
    "process.memory_hog": {"size": "64MiB"},
    "container.pause": {},
    "container.stop": {},
    "container.kill": {"signal": "SIGTERM"},
    "container.restart": {},
    "container.remove": {},
    "container.update": {"memory": "128MiB", "cpus": 0.5},
}


def test_every_kind_has_a_family_and_an_example() -> None:
    assert set(EXAMPLES) == set(FAULT_KINDS)
    for kind, spec in FAULT_KINDS.items():
        assert spec.family in FAMILIES and kind.startswith(spec.family + ".")
    assert {k.split(".", 1)[1] for k in FAULT_KINDS if k.startswith("proxy.")} == set(TOXIC_TYPES)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_each_example_validates(kind: str) -> None:
    clean = validate_params(kind, EXAMPLES[kind])
    if kind.startswith("proxy."):
        assert clean["stream"] == "downstream" and clean["toxicity"] == 1.0
        assert set(clean["attributes"]) >= set(EXAMPLES[kind])


def test_flat_and_nested_toxic_attributes_are_the_same() -> None:
    flat = validate_params("proxy.latency", {"latency": 100, "stream": "upstream", "toxicity": 0.5})
    nested = validate_params("proxy.latency", {"attributes": {"latency": 100}, "stream": "upstream", "toxicity": 0.5})
    assert flat == nested == {"stream": "upstream", "toxicity": 0.5, "attributes": {"latency": 100, "jitter": 0}}


def test_sizes_and_signals_are_normalised() -> None:
    assert validate_params("process.memory_hog", {"size": "64MiB"}) == {"size": 64 * 1024 * 1024}
    assert validate_params("app.leak_rate", {"bytes_per_request": "1KiB"}) == {"bytes_per_request": 1024}
    assert validate_params("process.kill", {"signal": "term"}) == {"signal": "SIGTERM"}
    assert validate_params("process.kill", {}) == {"signal": "SIGKILL"}


@pytest.mark.parametrize(("kind", "params", "error", "message"), [
    ("proxy.latencyy", {}, InputError, "unknown fault kind 'proxy.latencyy' (did you mean 'proxy.latency'?)"),
    ("nonsense", {}, InputError, "see 'gameday fault list'"),
    ("proxy.latency", {"latence": 5}, ValidationFailed,
     "params.attributes.latence: unknown key 'latence' (did you mean 'latency'?)"),
    ("proxy.latency", {}, ValidationFailed, "params.attributes.latency: missing required key 'latency'"),
    ("proxy.latency", {"latency": 1.5}, ValidationFailed, "params.attributes.latency"),
    ("proxy.latency", {"latency": True}, ValidationFailed, "params.attributes.latency"),
    ("proxy.latency", {"latency": 5, "stream": "sideways"}, ValidationFailed, "params.stream"),
    ("proxy.slicer", {"average_size": 8, "size_variation": 8}, ValidationFailed, "size_variation (8)"),
    ("proxy.bandwidth", {"rate": 0}, ValidationFailed, "params.attributes.rate"),
    ("process.kill", {"signal": "SIGFOO"}, ValidationFailed, "expected a signal name like SIGKILL"),
    ("process.cpu_hog", {"workers": 0}, ValidationFailed, "params.workers"),
    ("process.pause", {"for": 3}, ValidationFailed, "params.for: unknown key 'for'"),
    ("app.release", {}, ValidationFailed, "params.version: missing required key 'version'"),
    ("app.flag", {"name": "x", "value": "maybe"}, ValidationFailed, "params.value"),
])
def test_bad_params_are_one_clear_line(kind: str, params: dict[str, Any], error: type[Exception],
                                       message: str) -> None:
    with pytest.raises(error) as caught:
        validate_params(kind, params)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert isinstance(caught.value, InputError)  # exit code 2 at the CLI


@given(st.integers(min_value=0, max_value=86_400_000), st.floats(min_value=0, max_value=1))
def test_any_sane_latency_and_toxicity_validate(latency: int, toxicity: float) -> None:
    clean = validate_params("proxy.latency", {"latency": latency, "toxicity": toxicity})
    assert clean["attributes"]["latency"] == latency and clean["toxicity"] == toxicity


@given(st.integers(max_value=-1))
def test_negative_latency_is_refused(latency: int) -> None:
    with pytest.raises(ValidationFailed):
        validate_params("proxy.latency", {"latency": latency})


def test_cli_params_parse_json_values_and_nest_config_values() -> None:
    assert parse_params(["latency=200", "toxicity=0.5", "stream=upstream", "value=true", "version=v2.4.0-leaky"]) == {
        "latency": 200, "toxicity": 0.5, "stream": "upstream", "value": True, "version": "v2.4.0-leaky"}
    assert parse_params(["values.tiers.major.rate=2", "values.tiers.major.burst=3", "good=false"]) == {
        "values": {"tiers.major.rate": 2, "tiers.major.burst": 3}, "good": False}
    assert parse_params(["name=a=b"]) == {"name": "a=b"}
    with pytest.raises(InputError, match="expected key=value, got 'latency'"):
        parse_params(["latency"])

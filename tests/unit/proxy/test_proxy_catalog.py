"""The toxic catalog and validation: importable alone, one clear line per problem."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simulator.errors import InputError, SafetyViolation
from simulator.proxy.addresses import parse_address
from simulator.proxy.toxics import TOXIC_TYPES, merge_update, parse_toxic, validate_attributes

VALID = {
    "latency": {"latency": 100, "jitter": 10},
    "bandwidth": {"rate": 50},
    "slow_close": {"delay": 100},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 10},
    "slicer": {"average_size": 10, "size_variation": 5, "delay": 100},
    "limit_data": {"bytes": 100},
    "down": {},
}


def test_catalog_has_toxiproxy_names_and_descriptions() -> None:
    assert set(TOXIC_TYPES) == set(VALID)
    for name, kind in TOXIC_TYPES.items():
        assert kind.name == name
        assert kind.description
    assert TOXIC_TYPES["down"].applies_to == "proxy"
    assert TOXIC_TYPES["latency"].applies_to == "connection"


def test_catalog_imports_without_server_dependencies() -> None:
    code = (
        "import sys; from simulator.proxy import TOXIC_TYPES, validate_attributes;"
        "print(any(m in sys.modules for m in ('uvicorn', 'starlette', 'httpx')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("toxic_type", sorted(VALID))
def test_valid_attributes_are_accepted(toxic_type: str) -> None:
    model = validate_attributes(toxic_type, VALID[toxic_type])
    assert model.model_dump() == {**model.model_dump(), **VALID[toxic_type]}


@pytest.mark.parametrize(
    ("toxic_type", "attributes", "expected"),
    [
        ("latency", {"latency": 10, "latnecy": 5}, "unknown attribute 'latnecy' (expected: latency, jitter)"),
        ("latency", {"latency": "slow"}, "attribute 'latency' = 'slow': Input should be a valid integer"),
        ("latency", {"latency": -5}, "attribute 'latency' = -5: Input should be greater than or equal to 0"),
        ("latency", {"latency": 1.5}, "attribute 'latency' = 1.5"),
        ("latency", {"latency": True}, "attribute 'latency' = True: expected a whole number"),
        ("latency", {}, "attribute 'latency' is required"),
        ("bandwidth", {"rate": 0}, "attribute 'rate' = 0: Input should be greater than 0"),
        ("slicer", {"average_size": 10, "size_variation": 10}, "size_variation (10) must be smaller"),
        ("limit_data", {"bytes": -1}, "attribute 'bytes' = -1"),
        ("down", {"x": 1}, "unknown attribute 'x' (expected: no attributes)"),
    ],
)
def test_invalid_attributes_give_one_line_naming_the_attribute(
    toxic_type: str, attributes: dict[str, object], expected: str
) -> None:
    with pytest.raises(InputError) as info:
        validate_attributes(toxic_type, attributes)
    message = str(info.value)
    assert expected in message
    assert message.startswith(f"{toxic_type} toxic")
    assert "\n" not in message


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="unknown toxic type 'latencyy'; expected one of: latency, bandwidth"):
        validate_attributes("latencyy", {})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"type": "latency", "toxicity": 1.5, "attributes": {"latency": 1}}, "toxicity: expected a number from 0 to 1"),
        ({"type": "latency", "toxicity": -0.1, "attributes": {"latency": 1}}, "toxicity"),
        ({"type": "latency", "stream": "sideways", "attributes": {"latency": 1}}, "stream: expected 'upstream'"),
        ({"type": "latency", "name": "a b", "attributes": {"latency": 1}}, "toxic name 'a b' is not a valid name"),
        ({"type": "latency", "extra": 1, "attributes": {"latency": 1}}, "unknown field 'extra'"),
        ({"type": "down"}, "'down' is not a per-connection toxic"),
        ({"attributes": {}}, "unknown toxic type None"),
    ],
)
def test_parse_toxic_rejects_bad_bodies(body: dict[str, object], expected: str) -> None:
    with pytest.raises(InputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        parse_toxic(body)


def test_parse_toxic_defaults_like_toxiproxy() -> None:
    spec = parse_toxic({"type": "latency", "attributes": {"latency": 5}})
    assert (spec.name, spec.stream, spec.toxicity) == ("latency_downstream", "downstream", 1.0)
    assert spec.to_json()["attributes"] == {"latency": 5, "jitter": 0}


def test_update_merges_attributes_and_refuses_type_change() -> None:
    spec = parse_toxic({"type": "latency", "attributes": {"latency": 5, "jitter": 2}})
    updated = merge_update(spec, {"attributes": {"latency": 50}, "toxicity": 0.5})
    assert updated.attributes.model_dump() == {"latency": 50, "jitter": 2}
    assert updated.toxicity == 0.5
    with pytest.raises(InputError, match="cannot change a toxic's type"):
        merge_update(spec, {"type": "bandwidth"})
    with pytest.raises(InputError, match="attribute 'latency' = -1"):
        merge_update(spec, {"attributes": {"latency": -1}})


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:80", "127.0.0.1", 80),
        ("localhost:0", "127.0.0.1", 0),
        ("127.1.2.3:9", "127.1.2.3", 9),
        ("[::1]:8080", "::1", 8080),
    ],
)
def test_loopback_addresses_parse(text: str, host: str, port: int) -> None:
    address = parse_address(text)
    assert (address.host, address.port) == (host, port)


@pytest.mark.parametrize("text", ["0.0.0.0:80", "10.0.0.1:80", "[::]:80", "example.com:80", "192.168.1.1:0"])
def test_non_loopback_addresses_are_refused(text: str) -> None:
    with pytest.raises(SafetyViolation, match="is not a loopback address; gameday only proxies on loopback"):
        parse_address(text)


@pytest.mark.parametrize("text", ["127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":80", "::1:80", "", None])
def test_malformed_addresses_are_input_errors(text: object) -> None:
    with pytest.raises(InputError):
        parse_address(text)

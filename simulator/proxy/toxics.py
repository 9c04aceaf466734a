"""The toxic catalog: each type's attribute model and description, and toxic validation.

Import-light on purpose (pydantic only, nothing starts): scenario validation and the fault
library import ``TOXIC_TYPES`` / ``validate_attributes`` to check ``proxy.<type>`` parameters at
load time. The runtime behaviour of each type lives in ``effects.py``.

Names and attributes follow Toxiproxy (``toxics/*.go``). Units: milliseconds unless stated;
``bandwidth.rate`` is KB/s with KB = 1000 bytes; ``slicer.delay`` is microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from simulator.errors import InputError

STREAMS = ("upstream", "downstream")
Stream = Literal["upstream", "downstream"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
NAME_HINT = "1-64 characters: letters, digits, '_', '.', '-' (starting with a letter or digit)"
_DAY_MS = 86_400_000


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("expected a whole number, not true/false")
    return value


Whole = Annotated[int, BeforeValidator(_not_bool)]


class Attributes(BaseModel):
    """Base of every toxic's attributes: unknown attributes are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LatencyAttributes(Attributes):
    latency: Whole = Field(ge=0, le=_DAY_MS, description="delay added to each piece of data, ms")
    jitter: Whole = Field(0, ge=0, le=_DAY_MS, description="random +/- variation of the delay, ms")


class BandwidthAttributes(Attributes):
    rate: Whole = Field(gt=0, description="throughput cap, KB/s (1 KB = 1000 bytes)")


class SlowCloseAttributes(Attributes):
    delay: Whole = Field(ge=0, le=_DAY_MS, description="delay before the close is passed on, ms")


class TimeoutAttributes(Attributes):
    timeout: Whole = Field(
        ge=0, le=_DAY_MS, description="close the connection after this many ms; 0 = hold data until removed"
    )


class ResetPeerAttributes(Attributes):
    timeout: Whole = Field(0, ge=0, le=_DAY_MS, description="ms after the first data before the TCP RST")


class SlicerAttributes(Attributes):
    average_size: Whole = Field(ge=1, description="average size of each slice, bytes")
    size_variation: Whole = Field(0, ge=0, description="random +/- variation of the slice size, bytes")
    delay: Whole = Field(0, ge=0, le=_DAY_MS * 1000, description="pause between slices, microseconds")

    @model_validator(mode="after")
    def _variation_below_average(self) -> SlicerAttributes:
        if self.size_variation >= self.average_size:
            raise ValueError(
                f"size_variation ({self.size_variation}) must be smaller than average_size ({self.average_size})"
            )
        return self


class LimitDataAttributes(Attributes):
    bytes: Whole = Field(ge=0, description="close the connection after this many bytes")


class DownAttributes(Attributes):
    """``down`` has no attributes: it disables the whole proxy."""


@dataclass(frozen=True)
class ToxicType:
    name: str
    attributes: type[Attributes]
    description: str
    # "connection": added with POST /proxies/{p}/toxics. "proxy": ``down`` is applied by setting the
    # proxy's ``enabled`` flag (ProxyClient.set_enabled), not as a toxic.
    applies_to: Literal["connection", "proxy"] = "connection"


TOXIC_TYPES: dict[str, ToxicType] = {
    t.name: t
    for t in [
        ToxicType("latency", LatencyAttributes, "add latency (+/- jitter) to all data in the stream"),
        ToxicType("bandwidth", BandwidthAttributes, "limit the stream's throughput to rate KB/s"),
        ToxicType("slow_close", SlowCloseAttributes, "delay passing on the close of the stream by delay ms"),
        ToxicType(
            "timeout",
            TimeoutAttributes,
            "stop all data; close the connection after timeout ms (0 = hold data until the toxic is removed)",
        ),
        ToxicType("reset_peer", ResetPeerAttributes, "reset the connection (TCP RST) timeout ms after data"),
        ToxicType("slicer", SlicerAttributes, "slice data into small pieces with an optional delay between"),
        ToxicType("limit_data", LimitDataAttributes, "close the connection after bytes bytes in the stream"),
        ToxicType("down", DownAttributes, "disable the proxy: refuse new and drop existing connections", "proxy"),
    ]
}
CONNECTION_TOXICS = tuple(name for name, t in TOXIC_TYPES.items() if t.applies_to == "connection")


@dataclass
class ToxicSpec:
    """A validated toxic as the API shows it (``attributes`` is the type's model)."""

    name: str
    type: str
    stream: Stream
    toxicity: float
    attributes: Attributes

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": self.attributes.model_dump(),
        }


def validate_attributes(toxic_type: str, attributes: Mapping[str, Any] | None) -> Attributes:
    """Validate ``attributes`` for ``toxic_type``; raise ``InputError`` with one line naming the problem."""
    kind = TOXIC_TYPES.get(toxic_type) if isinstance(toxic_type, str) else None
    if kind is None:
        raise InputError(f"type: unknown toxic type {toxic_type!r}; expected one of: {', '.join(TOXIC_TYPES)}")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        raise InputError(f"{toxic_type} toxic: attributes must be an object, got {attributes!r}")
    try:
        return kind.attributes.model_validate(dict(attributes))
    except ValidationError as exc:
        raise InputError(_describe(kind, exc)) from None


def _describe(kind: ToxicType, exc: ValidationError) -> str:
    err = exc.errors()[0]
    fields = kind.attributes.model_fields
    takes = ", ".join(fields) or "no attributes"
    attr = str(err["loc"][0]) if err["loc"] else ""
    prefix = f"{kind.name} toxic"
    if err["type"] == "extra_forbidden":
        return f"{prefix}: unknown attribute {attr!r} (expected: {takes})"
    if not attr:
        return f"{prefix}: {str(err['msg']).removeprefix('Value error, ')}"
    what = fields[attr].description if attr in fields else ""
    if err["type"] == "missing":
        return f"{prefix}: attribute {attr!r} is required ({what})"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{prefix}: attribute {attr!r} = {err.get('input')!r}: {msg} ({what})"


def check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InputError(f"{what} {name!r} is not a valid name: {NAME_HINT}")
    return name


def check_toxicity(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise InputError(f"toxicity: expected a number from 0 to 1 (probability per connection), got {value!r}")
    return float(value)


def check_stream(value: object) -> Stream:
    if value not in STREAMS:
        raise InputError(f"stream: expected 'upstream' or 'downstream', got {value!r}")
    return value  # type: ignore[return-value]


_TOXIC_KEYS = {"name", "type", "stream", "toxicity", "attributes"}


def parse_toxic(body: object) -> ToxicSpec:
    """Validate a ``POST /proxies/{p}/toxics`` body into a ``ToxicSpec`` (nothing is applied)."""
    if not isinstance(body, Mapping):
        raise InputError("toxic: expected a JSON object {name, type, stream, toxicity, attributes}")
    unknown = sorted(set(body) - _TOXIC_KEYS)
    if unknown:
        raise InputError(f"toxic: unknown field {unknown[0]!r} (expected: {', '.join(sorted(_TOXIC_KEYS))})")
    toxic_type = body.get("type")
    if toxic_type not in TOXIC_TYPES:
        raise InputError(f"type: unknown toxic type {toxic_type!r}; expected one of: {', '.join(CONNECTION_TOXICS)}")
    if TOXIC_TYPES[toxic_type].applies_to == "proxy":
        raise InputError(
            f"type: {toxic_type!r} is not a per-connection toxic; disable the proxy instead "
            '(POST /proxies/{name} {"enabled": false})'
        )
    stream = check_stream(body.get("stream", "downstream"))
    toxicity = check_toxicity(body.get("toxicity", 1.0))
    name = body.get("name") or f"{toxic_type}_{stream}"
    check_name(name, "toxic name")
    attributes = validate_attributes(toxic_type, body.get("attributes"))
    return ToxicSpec(name=name, type=toxic_type, stream=stream, toxicity=toxicity, attributes=attributes)


def merge_update(spec: ToxicSpec, body: object) -> ToxicSpec:
    """Validate an update (``POST /proxies/{p}/toxics/{t}``): attributes merge, toxicity may change."""
    if not isinstance(body, Mapping):
        raise InputError("toxic update: expected a JSON object {attributes, toxicity}")
    unknown = sorted(set(body) - _TOXIC_KEYS)
    if unknown:
        raise InputError(f"toxic: unknown field {unknown[0]!r} (expected: {', '.join(sorted(_TOXIC_KEYS))})")
    for key in ("name", "type", "stream"):
        if key in body and body[key] != getattr(spec, key):
            raise InputError(f"{key}: cannot change a toxic's {key} ({getattr(spec, key)!r}); remove it and add anew")
    toxicity = check_toxicity(body["toxicity"]) if "toxicity" in body else spec.toxicity
    changes = body.get("attributes") or {}
    if not isinstance(changes, Mapping):
        raise InputError(f"{spec.type} toxic: attributes must be an object, got {changes!r}")
    attributes = validate_attributes(spec.type, {**spec.attributes.model_dump(), **changes})
    return ToxicSpec(name=spec.name, type=spec.type, stream=spec.stream, toxicity=toxicity, attributes=attributes)

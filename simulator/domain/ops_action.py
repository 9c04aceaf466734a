"""An ops action (a mitigation lever) in its compact string form, parsed in one place.

The form scenarios (``truth.accepted_mitigations``), runbooks, tabletop answers, the ops console,
the tracker and scoring share: ``verb:target[.key][=value]``, e.g. ``rollback:payments``,
``rollback:gateway.config``, ``deploy:payments=v2.3.1``, ``flag:payments.fallback_processor=on``,
``config:gateway.tiers.major.rate=200``, ``restart:auth``, ``scale:payments.pool_size=20``,
``scale:auth.memory_limit=512MiB``. A pattern such as ``rollback:payments`` or ``config:gateway``
matches every action it is a prefix of (``matches``); flag values compare as on/off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import InputError

OPS_VERBS: tuple[str, ...] = ("rollback", "deploy", "flag", "config", "restart", "scale")
_ACTION = re.compile(r"^(?P<verb>[a-z]+):(?P<target>[a-z][a-z0-9-]*)(?:\.(?P<key>[^=]+))?(?:=(?P<value>.*))?$")
_SWITCH = {"true": "on", "1": "on", "yes": "on", "false": "off", "0": "off", "no": "off"}


def _norm(value: str | None) -> str:
    v = (value or "").strip().lower()
    return _SWITCH.get(v, v)


@dataclass(frozen=True)
class OpsAction:
    verb: str
    target: str
    key: str | None = None
    value: str | None = None
    #: more than one setting at once (``gameday ops config -t gateway a=1 b=2``: ``{"values": {...}}``)
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def parse(cls, text: str) -> OpsAction:
        m = _ACTION.match(text.strip())
        if not m or m.group("verb") not in OPS_VERBS:
            raise InputError(f"expected an ops action like 'rollback:payments' or "
                             f"'flag:payments.fallback_processor=on' (verbs: {', '.join(OPS_VERBS)}), got {text!r}")
        return cls(m.group("verb"), m.group("target"), m.group("key"), m.group("value"))

    def format(self) -> str:
        text = f"{self.verb}:{self.target}"
        if self.key:
            text += f".{self.key}"
        if self.value is not None:
            text += f"={self.value}"
        return text

    __str__ = format

    def matches(self, pattern: OpsAction | str) -> bool:
        """Does this action satisfy an accepted-mitigation pattern such as ``rollback:payments``?"""
        other = OpsAction.parse(pattern) if isinstance(pattern, str) else pattern
        if (other.verb, other.target) != (self.verb, self.target):
            return False
        if other.key and other.key != self.key:
            return False
        return other.value is None or _norm(other.value) == _norm(self.value)

    def switch(self) -> bool:
        """A flag's value: on (``on``, ``true``, ``1``, ``yes``) or off (``off``, ``false``, ``0``, ``no``)."""
        v = _norm(self.value)
        if v not in ("on", "off"):
            raise InputError(f"expected on or off, got {self.value!r}")
        return v == "on"


def first_match(action: str, patterns: Iterable[str]) -> str | None:
    """The first pattern ``action`` satisfies; None when none does (or the action is not one)."""
    try:
        parsed = OpsAction.parse(action)
    except InputError:
        return None
    for pattern in patterns:
        try:
            if parsed.matches(pattern):
                return pattern
        except InputError:
            continue
    return None


def recorded_action(verb: str, target: str, params: Mapping[str, Any]) -> str:
    """The compact form of an action as a tracker ``ops.*`` event records it: its ``action`` param (the
    console and the runbook record one), else ``verb:target`` with the one ``key=value`` it was given."""
    if params.get("action"):
        return str(params["action"])
    if len(params) == 1:
        key, value = next(iter(params.items()))
        return OpsAction(verb, target, str(key), str(value)).format()
    return OpsAction(verb, target).format()


def valid_action(text: str) -> str:
    """``text`` if it is an ops action; ValueError otherwise (for pydantic validators)."""
    try:
        OpsAction.parse(text)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    return text

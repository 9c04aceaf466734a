"""An ops action (a mitigation lever) in its compact string form, parsed in one place.

The form scenarios (``truth.accepted_mitigations``), runbooks, tabletop answers, the ops console,
the tracker and scoring share: ``verb:target[.key][=value]``, e.g. ``rollback:payments``,
``rollback:gateway.config``, ``deploy:payments=v2.4.1`` (also ``deploy:payments@v2.4.1``),
``flag:payments.fallback_processor=on``, ``config:gateway.tiers.major.rate=200``, ``restart:auth``,
``scale:payments.pool_size=20``, ``scale:auth.memory_limit=512MiB``, ``failover:payments`` (traffic to the
target's standby instance; ``failover:payments=primary`` sends it back), ``kill:auth.pid=4242`` (a process on
auth's host that the run started: look first with ``gameday ops ps``), ``escalate:payments`` (page the team that
owns payments, the scenario's ``targets[].owner``). A config write of several
settings at once joins them with ``;``: ``config:gateway.tiers.major.rate=200;tiers.major.burst=400``.

A *pattern* (the truth's accepted mitigations, permanent fixes and harmful actions; a tabletop's
expected answers) matches every action it is a prefix of (``matches``): ``rollback:payments`` any
rollback of payments, ``config:gateway.tiers.major`` any write under that path. A pattern may compare
the value it names: ``config:gateway.tiers.major.rate>=200`` (also ``<=``, ``>``, ``<``, and ``=``,
numerically when both sides are numbers); flag values compare as on/off. An action that is run
(a runbook step, the ops console) sets values, so only ``=`` is allowed there (``runnable``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.domain.standard import MITIGATIONS
from simulator.errors import InputError

OPS_VERBS: tuple[str, ...] = ("rollback", "deploy", "flag", "config", "restart", "scale", "failover", "kill",
                             "escalate")
#: verbs whose actions restore service but leave the cause in place (the standard's "temporary
#: mitigation": feature flags, rollback, added resources); a restart only clears the symptom
TEMPORARY_VERBS: dict[str, str] = {
    "rollback": MITIGATIONS[1], "flag": MITIGATIONS[0], "scale": MITIGATIONS[2],
    "restart": "Restart (clears the symptom, not the cause)",
    # policy: the standard lists no failover among its temporary mitigations; we count it as one
    "failover": "Failover to the standby (policy: temporary, the faulty path or instance is still there)",
    "kill": "Kill a runaway process (frees what it took; whatever started it may start another)",
    "escalate": "Escalate to the owning team (their fix, after their delay)",
}
#: where ``failover:<target>=<side>`` sends traffic; no side is the standby
FAILOVER_SIDES: tuple[str, ...] = ("standby", "primary")
#: ``kill``: what a run may name (``pid=N``), and what the journal records once the console knows what it killed:
#: ``kill:auth.runaway`` (a process the run started beside its targets) or ``kill:auth.service`` (the target's own);
#: a truth's pattern names one of these (``kill:auth.runaway``). A runbook may say ``kill:auth.runaway``: the
#: automated responder looks at the process list (``gameday ops ps``) and kills the busiest stranger by its pid.
KILL_KEYS: tuple[str, ...] = ("pid", "runaway", "service")
#: verbs that can be the standard's "full fix": a fixed release deployed, a corrected config
PERMANENT_VERBS: tuple[str, ...] = ("deploy", "config")
COMPARISONS: tuple[str, ...] = (">=", "<=", "=", ">", "<")
_HEAD = re.compile(r"^(?P<verb>[a-z]+):(?P<target>[a-z][a-z0-9-]*)(?P<rest>.*)$", re.S)
_SETTING = re.compile(r"^(?P<key>[^=<>]*)(?:(?P<op>>=|<=|=|>|<)(?P<value>.*))?$", re.S)
_NEXT_SETTING = re.compile(r";(?=[^=<>;]+(?:>=|<=|=|>|<))")
_SWITCH = {"true": "on", "1": "on", "yes": "on", "false": "off", "0": "off", "no": "off"}
_FORM = ("expected an ops action like 'rollback:payments' or 'flag:payments.fallback_processor=on' "
         f"(verbs: {', '.join(OPS_VERBS)})")


def _norm(value: str | None) -> str:
    v = (value or "").strip().lower()
    return _SWITCH.get(v, v)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _flatten(path: str, value: Any, out: dict[str, Any]) -> None:
    value = _decoded(value)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(f"{path}.{key}", inner, out)
    else:
        out[path] = value


def compare(actual: Any, op: str, wanted: str | None) -> bool:
    """Does ``actual`` satisfy ``op wanted``? Numbers compare as numbers; ``=`` on text compares
    case-insensitively, with on/off for true/false/yes/no/1/0; an ordering needs two numbers."""
    a, w = _number(actual), _number(wanted)
    if op == "=":
        if a is not None and w is not None:
            return a == w
        return _norm(None if actual is None else _text(actual)) == _norm(wanted)
    if a is None or w is None:
        return False
    return {">=": a >= w, "<=": a <= w, ">": a > w, "<": a < w}[op]


@dataclass(frozen=True)
class OpsAction:
    verb: str
    target: str
    key: str | None = None
    value: str | None = None
    #: more than one setting at once (``gameday ops config -t gateway a=1 b=2``: ``{"values": {...}}``)
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    #: how a pattern compares its value (an action that is run always sets: ``=``)
    op: str = "="

    @classmethod
    def parse(cls, text: str) -> OpsAction:
        head = _HEAD.match(text.strip())
        if not head or head.group("verb") not in OPS_VERBS:
            raise InputError(f"{_FORM}, got {text!r}")
        verb, target, rest = head.group("verb"), head.group("target"), head.group("rest")
        if rest.startswith("@"):
            if verb != "deploy" or not rest[1:]:
                raise InputError(f"'@version' is for deploy only, e.g. deploy:payments@v2.4.1; got {text!r}")
            return cls(verb, target, None, rest[1:])
        if rest and rest[0] not in ".=<>":
            raise InputError(f"{_FORM}, got {text!r}")
        parts = _NEXT_SETTING.split(rest.removeprefix("."))
        if len(parts) > 1:
            if verb != "config":
                raise InputError(f"only config takes several settings joined with ';', got {text!r}")
            return cls._several(verb, target, parts, text)
        m = _SETTING.match(parts[0])
        if not m or (rest.startswith(".") and not m.group("key")):
            raise InputError(f"{_FORM}, got {text!r}")
        key, op, value = m.group("key") or None, m.group("op") or "=", m.group("value")
        if op != "=" and _number(value) is None:
            raise InputError(f"{op!r} compares numbers: expected a number after {op!r}, got {text!r}")
        if verb == "deploy" and key is not None and value is None:  # deploy:payments.v2.3.1
            key, value = None, key
        if verb == "failover":
            return cls(verb, target, None, _failover_side(key, op, value, text))
        if verb == "kill" and key is not None and key not in KILL_KEYS:
            raise InputError(f"kill:{target} takes {', '.join(KILL_KEYS)} (kill:{target}.pid=4242, or in a truth "
                             f"kill:{target}.runaway), got {text!r}")
        return cls(verb, target, key, value, op=op)

    @classmethod
    def _several(cls, verb: str, target: str, parts: list[str], text: str) -> OpsAction:
        values: dict[str, str] = {}
        for part in parts:
            m = _SETTING.match(part)
            if not m or not m.group("key") or m.group("op") != "=":
                raise InputError(f"each of several settings is key=value (no comparison), got {part!r} in {text!r}")
            values[m.group("key")] = m.group("value")
        return cls(verb, target, params={"values": values})

    def format(self) -> str:
        text = f"{self.verb}:{self.target}"
        several = self.params.get("values") or {}
        if not self.key and several:
            return text + "." + ";".join(f"{k}={_text(v)}" for k, v in several.items())
        if self.key:
            text += f".{self.key}"
        if self.value is not None:
            text += f"{self.op}{self.value}"
        return text

    __str__ = format

    def settings(self) -> dict[str, Any]:
        """Every setting this action writes, by dotted path; a nested value is flattened
        (``tiers.major={"rate": 200}`` is ``tiers.major.rate``)."""
        given = self.params.get("values") or ({self.key: self.value} if self.key else {})
        out: dict[str, Any] = {}
        for path, value in given.items():
            _flatten(str(path), value, out)
        return out

    def runnable(self) -> OpsAction:
        """This action, if it can be run; ``InputError`` for a pattern that compares (``>=``, ...), a kill that names
        no process (``kill:auth.pid=4242``; a runbook's ``kill:auth.runaway``), an escalation with settings."""
        if self.op != "=":
            raise InputError(f"{self.format()} is a pattern (it compares with {self.op}); an action sets a value: "
                             f"use '=', e.g. {OpsAction(self.verb, self.target, self.key, self.value)}")
        if self.verb == "kill":
            pid = self.value.strip() if self.key == "pid" and self.value else ""
            if not ((pid.isdigit() and int(pid) > 1) or (self.key == "runaway" and self.value is None)):
                raise InputError(f"kill names a process by its pid, e.g. kill:{self.target}.pid=4242 (see 'gameday "
                                 f"ops ps'); a runbook may say kill:{self.target}.runaway; got {self.format()!r}")
        if self.verb == "escalate" and (self.key or self.value is not None):
            raise InputError(f"escalate names only the target whose owning team is paged, e.g. "
                             f"escalate:{self.target}; got {self.format()!r}")
        return self

    def matches(self, pattern: OpsAction | str) -> bool:
        """Does this action satisfy a pattern such as ``rollback:payments`` or
        ``config:gateway.tiers.major.rate>=200``?"""
        other = OpsAction.parse(pattern) if isinstance(pattern, str) else pattern
        if (other.verb, other.target) != (self.verb, self.target):
            return False
        if self.verb == "failover":  # failover:payments is the standby side only, never the way back
            return other.value == self.value
        if self.verb in ("config", "scale") and other.key:
            return self._sets(other)
        if other.key and other.key != self.key:
            return False
        return other.value is None or compare(self.value, other.op, other.value)

    def _sets(self, pattern: OpsAction) -> bool:
        """A setting verb: the pattern's path is written (exactly or under it), with a value that
        satisfies the pattern's comparison when it names one."""
        assert pattern.key is not None
        written = self.settings()
        if pattern.value is None:
            return any(path == pattern.key or path.startswith(pattern.key + ".") for path in written)
        return pattern.key in written and compare(written[pattern.key], pattern.op, pattern.value)

    def switch(self) -> bool:
        """A flag's value: on (``on``, ``true``, ``1``, ``yes``) or off (``off``, ``false``, ``0``, ``no``)."""
        v = _norm(self.value)
        if v not in ("on", "off"):
            raise InputError(f"expected on or off, got {self.value!r}")
        return v == "on"


def _failover_side(key: str | None, op: str, value: str | None, text: str) -> str | None:
    """``failover:payments`` / ``=standby`` (None: the standby, the usual way) or ``=primary`` (back)."""
    side = "standby" if value is None else value.strip().lower()
    if key is not None or op != "=" or side not in FAILOVER_SIDES:
        raise InputError(f"expected failover:TARGET (to its standby) or failover:TARGET=primary (back), got {text!r}")
    return None if side == "standby" else side


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
    console and the runbook record one), else ``verb:target`` with the ``key=value`` it was given (a
    config write: every setting it was given)."""
    if params.get("action"):
        return str(params["action"])
    if len(params) == 1:
        key, value = next(iter(params.items()))
        return OpsAction(verb, target, str(key), _text(value)).format()
    if verb == "config" and params:
        return OpsAction(verb, target, params={"values": dict(params)}).format()
    return OpsAction(verb, target).format()


def valid_action(text: str) -> str:
    """``text`` if it is an ops action that can be run; ValueError otherwise (for pydantic validators)."""
    try:
        OpsAction.parse(text).runnable()
    except InputError as exc:
        raise ValueError(str(exc)) from None
    return text


def valid_pattern(text: str) -> str:
    """``text`` if it is an ops action or a pattern (``config:gateway.tiers.major.rate>=200``); ValueError
    otherwise (for pydantic validators)."""
    try:
        OpsAction.parse(text)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    return text


def valid_permanent_fix(text: str) -> str:
    """``valid_pattern``, and a verb that can be a full fix (a fixed release, a corrected config): rollback,
    flags, resources and restarts are temporary mitigations per the standard."""
    action = OpsAction.parse(valid_pattern(text))
    if action.verb not in PERMANENT_VERBS:
        raise ValueError(f"{text!r} is a temporary mitigation ({TEMPORARY_VERBS[action.verb]}); a permanent fix is "
                         "a fixed release (deploy:payments=v2.4.1) or a corrected config "
                         "(config:gateway.tiers.major.rate>=200)")
    return text

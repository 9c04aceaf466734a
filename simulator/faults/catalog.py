"""The fault kinds gameday knows, with their parameter models (data only, import-light).

Scenario validation uses this catalog to check ``faults[].kind`` and ``faults[].params`` at
load time, so a bad parameter is a one-line error before anything is applied. Each family has
its own module with the inject/revert code; this module only describes.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Any, Literal

import psutil
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from simulator.durations import Size
from simulator.proxy.toxics import TOXIC_TYPES


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    pass


class ReleaseParams(Params):
    version: str = Field(description="release to deploy, e.g. v2.4.0-leaky")


class ConfigParams(Params):
    values: dict[str, object] = Field(description="runtime config keys to set (dotted keys for nesting)")
    good: bool = Field(False, description="whether this config version may become 'last good'")


class FlagParams(Params):
    name: str
    value: bool


class LeakRateParams(Params):
    bytes_per_request: Size = Field(description="memory retained per request, e.g. 64KiB")


class ProxyParams(Params):
    """Common to every proxy toxic. Toxic attributes may be given flat (``latency: 200``) or
    under ``attributes``; each toxic type's own model validates them."""

    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = Field(1.0, ge=0.0, le=1.0)

    @model_validator(mode="before")
    @classmethod
    def _flat_attributes(cls, data: Any) -> Any:
        if isinstance(data, dict):
            flat = {k: v for k, v in data.items() if k not in ("stream", "toxicity", "attributes")}
            if flat or "attributes" not in data:  # none given: the toxic's model names what is missing
                nested = data.get("attributes") if isinstance(data.get("attributes"), dict) else {}
                data = {k: v for k, v in data.items() if k not in flat} | {"attributes": {**nested, **flat}}
        return data


def _proxy_params(toxic: str) -> type[Params]:
    attrs = TOXIC_TYPES[toxic].attributes
    required = any(f.is_required() for f in attrs.model_fields.values())
    field = (attrs, ...) if required else (attrs, Field(default_factory=attrs))
    return create_model(f"Proxy_{toxic}_Params", __base__=ProxyParams, attributes=field)


class SignalParams(Params):
    signal: str = Field("SIGKILL", description="signal name, e.g. SIGKILL, SIGTERM")

    @field_validator("signal")
    @classmethod
    def _known_signal(cls, v: str) -> str:
        # checked here, not when sending: a bad name must be refused before the ledger sees it
        name = v.strip().upper()
        name = name if name.startswith("SIG") else "SIG" + name
        if name not in signal.Signals.__members__:
            raise ValueError(f"expected a signal name like SIGKILL, SIGTERM or SIGINT, got {v!r}")
        return name


#: signals that freeze a process instead of ending it: a kill fault's revert would leave it frozen
STOP_SIGNALS = ("SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU")


class KillParams(SignalParams):
    """``process.kill`` / ``container.kill``: a signal that ends (or is handled by) the process. A stop signal
    is refused: freezing is ``process.pause`` / ``container.pause``, whose revert continues the process."""

    @field_validator("signal")
    @classmethod
    def _not_a_stop(cls, v: str) -> str:
        if v in STOP_SIGNALS:
            raise ValueError(f"a signal that ends the process, not {v}: it freezes the process and a kill's revert "
                             "does not continue it; to freeze the target use process.pause (or container.pause), "
                             "which is reverted with SIGCONT")
        return v


class CpuHogParams(Params):
    workers: int = Field(1, ge=1, le=64, description="busy processes to start")


class MemoryHogParams(Params):
    size: Size = Field(description="memory to allocate and touch, e.g. 512MiB (at most half the machine's RAM)")

    @field_validator("size")
    @classmethod
    def _bounded(cls, v: int) -> int:
        limit = psutil.virtual_memory().total // 2
        if v > limit:
            raise ValueError(f"expected at most half the machine's memory ({limit // 2**20} MiB), got {v // 2**20} MiB")
        return v


class ContainerUpdateParams(Params):
    memory: Size | None = Field(None, description="new memory limit (no swap), e.g. 128MiB")
    cpus: float | None = Field(None, gt=0, le=64, description="new CPU limit in CPUs, e.g. 0.25")

    @model_validator(mode="after")
    def _something(self) -> ContainerUpdateParams:
        if self.memory is None and self.cpus is None:
            raise ValueError("give memory, cpus or both")
        return self


@dataclass(frozen=True)
class FaultKind:
    kind: str
    family: str
    params: type[Params]
    summary: str
    backends: tuple[str, ...] = ("local", "docker")


FAULT_KINDS: dict[str, FaultKind] = {
    k.kind: k
    for k in [
        FaultKind("app.release", "app", ReleaseParams, "deploy a (buggy) release through the ops API"),
        FaultKind("app.config", "app", ConfigParams, "push a runtime config change through the ops API"),
        FaultKind("app.flag", "app", FlagParams, "flip a feature flag through the ops API"),
        FaultKind("app.leak_rate", "app", LeakRateParams, "set the auth service's leak rate"),
        *[FaultKind(f"proxy.{t.name}", "proxy", _proxy_params(t.name), t.description)
          for t in TOXIC_TYPES.values()],
        FaultKind("process.pause", "process", NoParams, "freeze the process (SIGSTOP; revert SIGCONT)"),
        FaultKind("process.kill", "process", KillParams, "send a signal (not a stop signal: that is process.pause); "
                                                         "the supervisor restarts per policy"),
        FaultKind("process.restart", "process", NoParams, "restart the target's process"),
        FaultKind("process.cpu_hog", "process", CpuHogParams, "burn CPU beside the target, on its host "
                  "(inside its CPU limit when it has one)"),
        FaultKind("process.memory_hog", "process", MemoryHogParams, "allocate memory beside the target, on its "
                  "host"),
        *[FaultKind(f"container.{name}", "container", params, summary, backends=("docker",))
          for name, params, summary in [
            ("pause", NoParams, "freeze every process of the container (docker pause; revert unpause)"),
            ("stop", NoParams, "stop the container (docker stop; revert start)"),
            ("kill", KillParams, "send a signal to the container (docker kill: the engine's restart policy "
                                   "does not apply; revert starts it)"),
            ("restart", NoParams, "restart the container (revert: make sure it runs)"),
            ("remove", NoParams, "remove the container (revert: re-create it, same name and port)"),
            ("update", ContainerUpdateParams, "change the container's memory and/or CPU limit (revert restores)"),
        ]],
    ]
}


def fault_kind(kind: str) -> FaultKind | None:
    return FAULT_KINDS.get(kind)


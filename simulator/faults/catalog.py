"""The fault kinds gameday knows, with their parameter models (data only, import-light).

Scenario validation uses this catalog to check ``faults[].kind`` and ``faults[].params`` at
load time, so a bad parameter is a one-line error before anything is applied. Each family has
its own module with the inject/revert code; this module only describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.scenario.durations import Size


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
    """Common to every proxy toxic; attributes are validated by the toxic's own model."""

    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = Field(1.0, ge=0.0, le=1.0)
    attributes: dict[str, object] = Field(default_factory=dict)


class SignalParams(Params):
    signal: str = Field("SIGKILL", description="signal name, e.g. SIGKILL, SIGTERM")


class CpuHogParams(Params):
    workers: int = Field(1, ge=1, le=64, description="busy processes to start")


class MemoryHogParams(Params):
    size: Size = Field(description="memory to allocate and touch, e.g. 512MiB")


class ContainerUpdateParams(Params):
    memory: Size | None = None
    cpus: float | None = Field(None, gt=0)


@dataclass(frozen=True)
class FaultKind:
    kind: str
    family: str
    params: type[Params]
    summary: str
    backends: tuple[str, ...] = ("local", "docker")


_TOXICS = {
    "latency": "add latency (latency, jitter ms) to data through the proxy",
    "bandwidth": "limit throughput to rate KB/s",
    "slow_close": "delay closing the connection by delay ms",
    "timeout": "stop all data; close after timeout ms (0 = hold until reverted)",
    "reset_peer": "reset the connection (TCP RST) after timeout ms",
    "slicer": "slice data into small pieces (average_size, size_variation, delay us)",
    "limit_data": "close the connection after bytes",
    "down": "take the proxy down: refuse and drop connections",
}

FAULT_KINDS: dict[str, FaultKind] = {
    k.kind: k
    for k in [
        FaultKind("app.release", "app", ReleaseParams, "deploy a (buggy) release through the ops API"),
        FaultKind("app.config", "app", ConfigParams, "push a runtime config change through the ops API"),
        FaultKind("app.flag", "app", FlagParams, "flip a feature flag through the ops API"),
        FaultKind("app.leak_rate", "app", LeakRateParams, "set the auth service's leak rate"),
        *[FaultKind(f"proxy.{t}", "proxy", ProxyParams, s) for t, s in _TOXICS.items()],
        FaultKind("process.pause", "process", NoParams, "freeze the process (SIGSTOP; revert SIGCONT)"),
        FaultKind("process.kill", "process", SignalParams, "send a signal; the supervisor restarts per policy"),
        FaultKind("process.restart", "process", NoParams, "restart the target's process"),
        FaultKind("process.cpu_hog", "process", CpuHogParams, "burn CPU beside the target"),
        FaultKind("process.memory_hog", "process", MemoryHogParams, "allocate memory beside the target"),
        FaultKind("container.pause", "container", NoParams, "docker pause (revert: unpause)", ("docker",)),
        FaultKind("container.stop", "container", NoParams, "docker stop (revert: start)", ("docker",)),
        FaultKind("container.kill", "container", SignalParams, "docker kill with a signal", ("docker",)),
        FaultKind("container.restart", "container", NoParams, "docker restart", ("docker",)),
        FaultKind("container.remove", "container", NoParams, "remove the container (revert: recreate)",
                  ("docker",)),
        FaultKind("container.update", "container", ContainerUpdateParams,
                  "docker update memory/CPU limits (revert: previous limits)", ("docker",)),
    ]
}


def fault_kind(kind: str) -> FaultKind | None:
    return FAULT_KINDS.get(kind)


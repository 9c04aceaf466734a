"""Load shapes: the scenario's stages, from game time to wall time, and the shape function.

A scenario's ``load.stages`` is a list of ``{duration, users, spawn_rate}``. ``duration`` is
game time; it becomes wall time through the time scale (``wall = game / time_scale``), so a
"2 h ramp" at ``time_scale: 720`` takes 10 s. ``users`` is the target user count of the stage
and ``spawn_rate`` how many users Locust starts or stops per *wall* second to get there (a
property of the load generator, not of the story; default: the load's ``spawn_rate``).

After the last stage the shape either holds the last stage's users until the driver stops
Locust (``end="hold"``, the default: the runner decides when load ends) or ends the test
(``end="stop"``). With no stages the shape is ``users`` at ``spawn_rate`` until stopped.

Pure code, no Locust: the ``LoadTestShape`` in ``locustfiles/_plugin.py`` calls ``shape_tick``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from simulator.durations import parse_duration
from simulator.errors import InputError

EndMode = Literal["hold", "stop"]


@dataclass(frozen=True)
class WallStage:
    duration: float  # wall seconds
    users: int
    spawn_rate: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _field(stage: Any, key: str) -> Any:
    if isinstance(stage, dict):
        return stage.get(key)
    return getattr(stage, key, None)


def to_wall_stages(stages: Iterable[Any], time_scale: float, default_spawn_rate: float) -> list[WallStage]:
    """Stages (dicts or objects with ``duration``, ``users``, optional ``spawn_rate``) in wall time."""
    if time_scale <= 0:
        raise InputError(f"load: time_scale must be > 0, got {time_scale!r}")
    if default_spawn_rate <= 0:
        raise InputError(f"load: spawn_rate must be > 0, got {default_spawn_rate!r}")
    out: list[WallStage] = []
    for i, stage in enumerate(stages):
        where = f"load.stages[{i}]"
        try:
            duration = parse_duration(_field(stage, "duration"))
        except ValueError as exc:
            raise InputError(f"{where}.duration: {exc}") from None
        users = _field(stage, "users")
        if not isinstance(users, int) or isinstance(users, bool) or users < 0:
            raise InputError(f"{where}.users: expected an integer >= 0, got {users!r}")
        rate = _field(stage, "spawn_rate")
        rate = default_spawn_rate if rate is None else float(rate)
        if rate <= 0:
            raise InputError(f"{where}.spawn_rate: expected a number > 0, got {rate!r}")
        out.append(WallStage(duration=duration / time_scale, users=users, spawn_rate=rate))
    return out


def shape_tick(
    stages: Sequence[WallStage], run_time: float, users: int, spawn_rate: float, end: EndMode = "hold"
) -> tuple[int, float] | None:
    """``(users, spawn_rate)`` at ``run_time`` wall seconds into the test, or ``None`` to stop."""
    if not stages:
        return users, spawn_rate
    elapsed = 0.0
    for stage in stages:
        elapsed += stage.duration
        if run_time < elapsed:
            return stage.users, stage.spawn_rate
    if end == "stop":
        return None
    last = stages[-1]
    return last.users, last.spawn_rate


def total_duration(stages: Sequence[WallStage]) -> float:
    return sum(s.duration for s in stages)

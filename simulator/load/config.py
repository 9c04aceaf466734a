"""The load configuration handed to the Locust process (JSON), and where it travels.

The driver writes it to ``<run_dir>/load-config.json`` (the audit record) and passes the same
JSON in ``GAMEDAY_LOAD_CONFIG_JSON``. Inside Locust it is the custom option
``--gameday-config-json``, so a master forwards it to every worker with the spawn message:
workers on other machines need no copy of it. Everything in it is wall time (the driver has
already applied the time scale to the stages).

Pure code, no Locust.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import InputError
from simulator.load.retry import RetryPolicy
from simulator.load.safety import check_loopback_url
from simulator.load.shapes import EndMode, WallStage

ENV_CONFIG_JSON = "GAMEDAY_LOAD_CONFIG_JSON"
ENV_CONFIG_PATH = "GAMEDAY_LOAD_CONFIG"
ENV_STATS_FD = "GAMEDAY_STATS_FD"
ENV_STATS_PATH = "GAMEDAY_STATS_PATH"
ENV_PARENT_PID = "GAMEDAY_PARENT_PID"

#: Markers the Locust side prints before exiting, so the driver can name the problem.
SAFETY_MARKER = "GAMEDAY-SAFETY:"
CONFIG_MARKER = "GAMEDAY-CONFIG:"

BUNDLED_APPS: tuple[str, ...] = ("payments", "gateway", "auth", "ping")


@dataclass(frozen=True)
class LoadConfig:
    app: str
    target_url: str
    target: str = ""  # the target's name in the scenario (the stream's ``target``); default: app
    users: int = 10
    spawn_rate: float = 10.0
    stages: tuple[WallStage, ...] = ()
    end: EndMode = "hold"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    wait: tuple[float, float] = (0.05, 0.2)
    timeout: float = 10.0
    seed: int = 0
    interval: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_url", check_loopback_url(self.target_url))
        if not self.target:
            object.__setattr__(self, "target", self.app)
        if not isinstance(self.users, int) or self.users < 0:
            raise InputError(f"load: users must be an integer >= 0, got {self.users!r}")
        if self.spawn_rate <= 0:
            raise InputError(f"load: spawn_rate must be > 0, got {self.spawn_rate!r}")
        if self.end not in ("hold", "stop"):
            raise InputError(f"load: end must be 'hold' or 'stop', got {self.end!r}")
        low, high = self.wait
        if low < 0 or high < low:
            raise InputError(f"load: wait must be [min, max] with 0 <= min <= max, got {list(self.wait)!r}")
        if self.timeout <= 0:
            raise InputError(f"load: timeout must be > 0, got {self.timeout!r}")
        if self.interval <= 0:
            raise InputError(f"load: interval must be > 0, got {self.interval!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "target_url": self.target_url,
            "target": self.target,
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "stages": [s.to_dict() for s in self.stages],
            "end": self.end,
            "retry": self.retry.to_dict(),
            "wait": list(self.wait),
            "timeout": self.timeout,
            "seed": self.seed,
            "interval": self.interval,
            "params": dict(self.params),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadConfig:
        try:
            data = dict(data)
            data["stages"] = tuple(WallStage(float(s["duration"]), int(s["users"]), float(s["spawn_rate"]))
                                   for s in data.get("stages", ()))
            data["retry"] = RetryPolicy.from_any(data.get("retry"))
            if "wait" in data:
                data["wait"] = (float(data["wait"][0]), float(data["wait"][1]))
            return cls(**data)
        except InputError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputError(f"load config: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> LoadConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"load config: not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise InputError("load config: expected a JSON object")
        return cls.from_dict(data)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LoadConfig | None:
        """From ``GAMEDAY_LOAD_CONFIG_JSON`` or the file named by ``GAMEDAY_LOAD_CONFIG``."""
        env = os.environ if environ is None else environ
        if env.get(ENV_CONFIG_JSON):
            return cls.from_json(env[ENV_CONFIG_JSON])
        if env.get(ENV_CONFIG_PATH):
            try:
                with open(env[ENV_CONFIG_PATH], encoding="utf-8") as fh:
                    return cls.from_json(fh.read())
            except OSError as exc:
                raise InputError(f"load config: cannot read {env[ENV_CONFIG_PATH]}: {exc.strerror}") from None
        return None

"""The ops state of one app: deployed release, flags, config versions, history.

The mitigation levers (deploy, rollback, flags, config push) change it; it is persisted to the
state file (atomically, after every change) so a restarted process comes back with the same
release, flags and config, as a real restart would.

Config is layered: catalog defaults <- ``--config`` (the deployment manifest) <- ops overrides.
Each config version stores its cumulative overrides, so a restart with a new ``--config`` (say a
new upstream URL) keeps what operators pushed on top of it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.errors import Conflict, EnvironmentProblem, InputError
from simulator.targets.apps.catalog import AppInfo
from simulator.targets.apps.common.config import (
    ConfigError,
    check_removals,
    deep_merge,
    expand_dotted,
    merge_overrides,
    validate_config,
)

STATE_FORMAT = 1
HISTORY_LIMIT = 500

ConfigCheck = Callable[[dict[str, Any]], None]
#: may refuse a rollback of "release" or "config" (raise ``NothingToRollBack``): the app's rollback policy
RollbackCheck = Callable[[str], None]


class NothingToRollBack(Conflict):
    """A rollback with nothing to go back to (409)."""


@dataclass(frozen=True)
class OpsChange:
    """What one ops call changed; handed to the app so it can rebuild what depends on it."""

    action: str
    release_changed: bool = False
    config_changed: bool = False
    flags_changed: bool = False
    #: a deploy of the release already running: the app restarts its resources anyway
    redeploy: bool = False
    old_config: Mapping[str, Any] | None = None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class OpsState:
    """Thread-safe; every mutator persists, notifies the listener, and returns the new snapshot."""

    def __init__(
        self,
        info: AppInfo,
        base_config: Mapping[str, Any] | None = None,
        state_file: Path | None = None,
        check: ConfigCheck | None = None,
        check_rollback: RollbackCheck | None = None,
    ) -> None:
        self.info = info
        self.state_file = state_file
        self._check = check
        self._check_rollback = check_rollback
        self._lock = threading.RLock()
        self._listeners: list[Callable[[OpsChange], None]] = []
        try:
            base_override = expand_dotted(base_config or {})
            check_removals(info, base_override)
        except ConfigError as error:
            raise ConfigError(f"--config: {error}") from None
        self._base = deep_merge(info.default_config(), base_override)
        self._validate(self._base, where="--config")
        self._release_trail: list[str] = [info.default_release]
        self._undo: list[str] = []
        self._flags = info.default_flags()
        self._versions: dict[int, dict[str, Any]] = {1: {"overrides": {}, "good": True, "at": now_iso()}}
        self._config_trail: list[int] = [1]
        self._last_good = 1
        self._history: list[dict[str, Any]] = []
        if state_file is not None and state_file.exists() and state_file.stat().st_size > 0:
            self._load(state_file)
        self._config = self._effective(self._config_trail[-1])
        self._record("start", release=self.release, pid=os.getpid())
        self._save()

    # ----------------------------------------------------------------- reading

    @property
    def release(self) -> str:
        return self._release_trail[-1]

    @property
    def previous_release(self) -> str | None:
        return self._release_trail[-2] if len(self._release_trail) > 1 else None

    @property
    def config(self) -> dict[str, Any]:
        """The effective config (treat as read-only; it is replaced, never mutated, on change)."""
        return self._config

    @property
    def config_version(self) -> int:
        return self._config_trail[-1]

    @property
    def last_good_config_version(self) -> int:
        return self._last_good

    @property
    def flags(self) -> dict[str, bool]:
        return dict(self._flags)

    def flag(self, name: str) -> bool:
        return self._flags[name]

    def snapshot(self) -> dict[str, Any]:
        """The ``GET /ops/state`` body."""
        with self._lock:
            return {
                "app": self.info.name,
                "release": self.release,
                "previous_release": self.previous_release,
                "releases": list(self.info.versions),
                "flags": dict(self._flags),
                "config": copy.deepcopy(self._config),
                "config_version": self.config_version,
                "last_good_config_version": self._last_good,
                "history": copy.deepcopy(self._history),
            }

    def subscribe(self, listener: Callable[[OpsChange], None]) -> None:
        self._listeners.append(listener)

    # ----------------------------------------------------------------- levers

    def deploy(self, version: str) -> dict[str, Any]:
        with self._lock:
            if self.info.release(version) is None:
                known = ", ".join(self.info.versions)
                raise InputError(f"unknown version {version!r} for {self.info.name} (known: {known})")
            old = self.release
            if version == old:
                self._record("deploy", version=version, previous=old, redeploy=True)
                return self._commit(OpsChange("deploy", release_changed=True, redeploy=True))
            self._release_trail.append(version)
            self._undo.append("release")
            self._record("deploy", version=version, previous=old)
            return self._commit(OpsChange("deploy", release_changed=True))

    def rollback(self, what: str | None = None) -> dict[str, Any]:
        with self._lock:
            if what is None:
                if not self._undo:
                    raise NothingToRollBack(
                        f"nothing to roll back: no deploy or config push on {self.info.name} to undo"
                    )
                what = self._undo[-1]
            if self._check_rollback is not None and what in ("release", "config"):
                self._check_rollback(what)
            if what == "release":
                return self._rollback_release()
            if what == "config":
                return self._rollback_config()
            raise InputError(f"rollback 'what' must be 'release', 'config' or null, got {what!r}")

    def set_flag(self, name: str, value: bool) -> dict[str, Any]:
        with self._lock:
            if name not in self._flags:
                known = ", ".join(self._flags) or "none"
                raise InputError(f"unknown flag {name!r} for {self.info.name} (known: {known})")
            if not isinstance(value, bool):
                raise InputError(f"flag value must be true or false, got {value!r}")
            previous = self._flags[name]
            self._flags[name] = value
            self._record("flag", name=name, value=value, previous=previous)
            return self._commit(OpsChange("flag", flags_changed=previous != value))

    def push_config(self, values: Mapping[str, Any], good: bool = True) -> dict[str, Any]:
        with self._lock:
            override = expand_dotted(values)
            if not override:
                raise ConfigError("config push needs at least one key in 'values'")
            check_removals(self.info, override)
            current = self._versions[self.config_version]["overrides"]
            merged = merge_overrides(current, override)
            self._validate(deep_merge(self._base, merged), where="config")
            version = max(self._versions) + 1
            self._versions[version] = {"overrides": merged, "good": bool(good), "at": now_iso()}
            previous = self.config_version
            self._config_trail.append(version)
            self._undo.append("config")
            if good:
                self._last_good = version
            self._record("config", version=version, previous_version=previous, good=bool(good), keys=sorted(values))
            return self._commit(OpsChange("config", config_changed=True, old_config=self._config))

    # ----------------------------------------------------------------- internals

    def _rollback_release(self) -> dict[str, Any]:
        if len(self._release_trail) < 2:
            raise NothingToRollBack(
                f"nothing to roll back: {self.info.name} runs {self.release} and has no previous release"
            )
        old = self._release_trail.pop()
        _drop_last(self._undo, "release", 1)
        self._record("rollback", what="release", previous=old, version=self.release)
        return self._commit(OpsChange("rollback", release_changed=True))

    def _rollback_config(self) -> dict[str, Any]:
        trail = self._config_trail
        current = trail[-1]
        if self._versions[current]["good"]:
            earlier = [v for v in trail[:-1] if self._versions[v]["good"] and v != current]
            target = earlier[-1] if earlier else None
        else:
            target = self._last_good if self._last_good in trail[:-1] else None
        if target is None:
            raise NothingToRollBack(
                f"nothing to roll back: {self.info.name} config version {current} has no earlier good version"
            )
        index = len(trail) - 2 - trail[-2::-1].index(target)
        dropped = len(trail) - 1 - index
        del trail[index + 1 :]
        _drop_last(self._undo, "config", dropped)
        self._last_good = target
        self._record("rollback", what="config", previous_version=current, version=target)
        return self._commit(OpsChange("rollback", config_changed=True, old_config=self._config))

    def _commit(self, change: OpsChange) -> dict[str, Any]:
        if change.config_changed:
            self._config = self._effective(self.config_version)
        self._save()
        for listener in self._listeners:
            listener(change)
        return self.snapshot()

    def _effective(self, version: int) -> dict[str, Any]:
        config = deep_merge(self._base, self._versions[version]["overrides"])
        return self._validate(config, where=f"config version {version}")

    def _validate(self, config: dict[str, Any], where: str) -> dict[str, Any]:
        try:
            normalised = validate_config(self.info, config)
            if self._check is not None:
                self._check(normalised)
        except ConfigError as error:
            if where == "config":
                raise
            raise ConfigError(f"{where}: {error}") from None
        return normalised

    def _record(self, action: str, **fields: Any) -> None:
        self._history.append({"at": now_iso(), "action": action, **fields})
        if len(self._history) > HISTORY_LIMIT:
            del self._history[: len(self._history) - HISTORY_LIMIT]

    # ----------------------------------------------------------------- persistence

    def _save(self) -> None:
        if self.state_file is None:
            return
        data = {
            "format": STATE_FORMAT,
            "app": self.info.name,
            "release_trail": self._release_trail,
            "undo": self._undo,
            "flags": self._flags,
            "config_versions": {str(v): rec for v, rec in self._versions.items()},
            "config_trail": self._config_trail,
            "last_good_config_version": self._last_good,
            "history": self._history,
        }
        path = self.state_file
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle, indent=1, sort_keys=True)
                    handle.write("\n")
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as error:
            raise EnvironmentProblem(
                f"cannot write state file {path}: {error.strerror or error}; check the directory exists and is writable"
            ) from error

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(
                f"state file {path} is unreadable ({error}); delete it to start {self.info.name} fresh"
            ) from error
        try:
            self._load_data(data)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InputError(
                f"state file {path} is malformed ({type(error).__name__}: {error}); "
                f"delete it to start {self.info.name} fresh"
            ) from error

    def _load_data(self, data: dict[str, Any]) -> None:
        if data.get("app") != self.info.name:
            raise ValueError(f"it belongs to app {data.get('app')!r}, not {self.info.name!r}")
        trail = [str(v) for v in data["release_trail"]]
        unknown = [v for v in trail if self.info.release(v) is None]
        if not trail or unknown:
            raise ValueError(f"unknown release {unknown[0] if unknown else None!r}")
        versions = {
            int(v): {
                "overrides": dict(rec["overrides"]),
                "good": bool(rec["good"]),
                "at": str(rec.get("at", "")),
            }
            for v, rec in data["config_versions"].items()
        }
        config_trail = [int(v) for v in data["config_trail"]]
        if not config_trail or any(v not in versions for v in config_trail):
            raise ValueError("config_trail names an unknown config version")
        last_good = int(data["last_good_config_version"])
        if last_good not in versions:
            raise ValueError("last_good_config_version is unknown")
        flags = self.info.default_flags()
        for name, value in dict(data.get("flags", {})).items():
            if name in flags:
                flags[name] = bool(value)
        self._release_trail = trail
        self._undo = [str(u) for u in data.get("undo", []) if u in ("release", "config")]
        self._flags = flags
        self._versions = versions
        self._config_trail = config_trail
        self._last_good = last_good
        self._history = [dict(h) for h in data.get("history", [])][-HISTORY_LIMIT:]


def _drop_last(items: list[str], value: str, count: int) -> None:
    """Remove the last ``count`` occurrences of ``value`` from ``items``."""
    for index in range(len(items) - 1, -1, -1):
        if count <= 0:
            return
        if items[index] == value:
            del items[index]
            count -= 1

"""The base of every app's runtime: ops state, registry, data dir, hooks the app overrides."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from prometheus_client import CollectorRegistry

from simulator.targets.apps.catalog import AppInfo
from simulator.targets.apps.common.clock import time_scale_from_env
from simulator.targets.apps.common.metrics import (
    GCTrackedCollector,
    OpsCollector,
    RequestMetrics,
    new_registry,
)
from simulator.targets.apps.common.state import OpsChange, OpsState


class Service:
    """Holds what one app process holds. Subclasses add routes and react to ops changes."""

    track_gc_objects = False

    def __init__(
        self,
        info: AppInfo,
        config: Mapping[str, Any] | None,
        state_file: Path | None,
        data_dir: Path | None,
    ) -> None:
        self.info = info
        #: game seconds per wall second of the run this process serves (1.0 outside a run)
        self.time_scale = time_scale_from_env()
        self.log = logging.getLogger(f"gameday.{info.name}")
        self.registry: CollectorRegistry = new_registry()
        self.request_metrics = RequestMetrics(self.registry)
        self.ops = OpsState(info, base_config=config, state_file=state_file, check=self.check_config,
                            check_rollback=self.check_rollback)
        self.registry.register(OpsCollector(self.ops))
        if self.track_gc_objects:
            self.registry.register(GCTrackedCollector())
        self._own_data_dir: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._own_data_dir = tempfile.TemporaryDirectory(prefix=f"gameday-{info.name}-")
            data_dir = Path(self._own_data_dir.name)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.ops.subscribe(self._on_change)

    # -- hooks for subclasses

    def check_config(self, config: dict[str, Any]) -> None:
        """Cross-key checks beyond the catalog schema; raise ``ConfigError``."""

    def check_rollback(self, what: str) -> None:
        """Refuse a rollback of ``what`` (release or config) with ``NothingToRollBack``; default: allow."""

    def apply(self, change: OpsChange) -> None:
        """Rebuild what depends on the release, flags or config after an ops change."""

    def health(self) -> dict[str, str]:
        """Named checks: ``"ok"`` or a short problem. Any problem makes /healthz answer 503."""
        return {}

    def router(self) -> APIRouter:
        return APIRouter()

    def close(self) -> None:
        """Release resources (connections, clients) at shutdown."""

    # -- internals

    def _on_change(self, change: OpsChange) -> None:
        self.log.warning(
            "ops %s: release=%s config_version=%s flags=%s",
            change.action,
            self.ops.release,
            self.ops.config_version,
            self.ops.flags,
        )
        self.apply(change)

    def shutdown(self) -> None:
        try:
            self.close()
        finally:
            if self._own_data_dir is not None:
                shutil.rmtree(self._own_data_dir.name, ignore_errors=True)
                self._own_data_dir = None

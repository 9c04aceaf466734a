"""The run's time scale, as an app process learns it: game seconds per wall second.

A backend starts every app with ``GAMEDAY_TIME_SCALE`` in its environment (the local supervisor in the
child's environment, the docker supervisor in the container's), so physics told in game time (a leak of
so many bytes per game hour) play out at the run's speed. Outside a run (``gameday targets up``, a test)
the variable is absent and the scale is 1: game time is wall time. Import-light: the supervisors read
the name from here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from simulator.errors import InputError

TIME_SCALE_ENV = "GAMEDAY_TIME_SCALE"


def time_scale_from_env(environ: Mapping[str, str] | None = None) -> float:
    """``GAMEDAY_TIME_SCALE`` as a float > 0; 1.0 when absent. A bad value is an error (exit 2 at start)."""
    raw = (os.environ if environ is None else environ).get(TIME_SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{TIME_SCALE_ENV} must be a number > 0 (game seconds per wall second), got {raw!r}")
    return value


def time_scale_env(time_scale: float) -> dict[str, str]:
    """The environment entry that tells an app process the run's time scale."""
    return {TIME_SCALE_ENV: repr(float(time_scale))}

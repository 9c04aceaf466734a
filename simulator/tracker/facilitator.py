"""The running drill's control hook on a tracker (``TrackerService.facilitator``), as the API and the web
UI both reach it: the same commands as the terminal console (``simulator.drills.console``)."""

from __future__ import annotations

from typing import Any

from simulator.errors import NotFound
from simulator.tracker.service import TrackerService

NO_DRILL = ("no drill is attached to this tracker: the facilitator console exists while a game day runs "
            "(gameday drill run quarterly-game-day), in the drill's tracker")


def facilitator_hook(svc: TrackerService) -> Any:
    """The running drill's control hook, or NotFound (404) when no drill is attached."""
    hook = getattr(svc, "facilitator", None)
    if hook is None:
        raise NotFound(NO_DRILL)
    return hook


def run_facilitator_command(svc: TrackerService, command: str, actor: str = "facilitator",
                            **args: Any) -> dict[str, Any]:
    """One command through the drill's console (404 no drill, 409 not possible now, 422 bad input)."""
    return facilitator_hook(svc).command(command, source="web" if actor == "web" else f"web:{actor}", **args)

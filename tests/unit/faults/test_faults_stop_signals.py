"""``process.kill`` (and ``container.kill``) refuse the signals that freeze instead of ending a process: a kill's
revert never continues it, so the target would stay frozen while the ledger said "reverted"."""

from __future__ import annotations

import pytest

from simulator.errors import ValidationFailed
from simulator.faults.catalog import STOP_SIGNALS
from simulator.faults.engine import validate_params


@pytest.mark.parametrize("kind", ["process.kill", "container.kill"])
@pytest.mark.parametrize("name", [*STOP_SIGNALS, "stop", "sigtstp", " SIGTTIN "])
def test_stop_signals_are_refused_in_one_line_pointing_at_pause(kind: str, name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_params(kind, {"signal": name})
    assert len(caught.value.lines()) == 1
    line = caught.value.lines()[0]
    assert line.startswith(f"fault {kind}: params.signal: expected a signal that ends the process, not SIG")
    assert "use process.pause" in line and "\n" not in line


@pytest.mark.parametrize("name", ["SIGKILL", "SIGTERM", "SIGINT", "SIGCONT", "hup"])
def test_ending_signals_still_validate(name: str) -> None:
    assert validate_params("process.kill", {"signal": name})["signal"].startswith("SIG")


def test_pause_is_the_way_to_freeze() -> None:
    assert validate_params("process.pause", {}) == {}

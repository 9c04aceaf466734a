"""The facilitator page in headless Chromium, steering a real game-day run: start, pause, resume, abort."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from simulator.drills.console import FacilitatorConsole
from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from tests.helpers.facilitator_run import game_day_result, start_game_day, stop_game_day, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SHOT = Path("/tmp/facilitator.png")
SHOT_READY = Path("/tmp/facilitator-ready.png")


@pytest.fixture
def gameday_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("GAMEDAY_HOME", str(home))
    yield home
    from simulator.cleanup import cleanup

    cleanup(everything=True)


def test_start_pause_resume_abort_from_the_page(browser, gameday_home: Path, tmp_path: Path) -> None:
    console = FacilitatorConsole()
    thread, box, url = start_game_day(tmp_path, console, start="facilitator")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20000)
    confirms: list[str] = []
    page.on("dialog", lambda d: (confirms.append(d.message), d.accept()))
    try:
        page.goto(url + "/")
        page.click("nav >> text=Facilitator")
        page.wait_for_url(url + "/facilitator")
        assert "FACILITATOR" in page.inner_text(".fac-banner")
        assert "Quarterly game day" in page.inner_text("#fac-state")
        # held for the facilitator: everything is up, nothing moves until Start
        page.wait_for_selector("#fac-start:not([disabled])", timeout=60000)
        assert "Start scenario" in page.inner_text("#fac-waiting") and page.is_disabled("#fac-pause")
        assert page.inner_text("#fac-phase") == "ready"
        time.sleep(1.0)  # held means held: no load, no game clock, however long the briefing takes
        assert console.control.phase == "ready" and not console.control.load_started
        assert not console.control.clock_started
        page.screenshot(path=str(SHOT_READY), full_page=True)
        page.click("#fac-start")
        page.wait_for_selector(".flash-notice >> text=started pool-exhaustion")
        assert page.is_disabled("#fac-start")
        # the page polls: the Pause button enables itself once the game clock runs
        page.wait_for_selector("#fac-pause:not([disabled])", timeout=60000)
        page.click("#fac-pause")
        page.wait_for_selector(".flash-notice")
        assert page.inner_text(".flash-notice").startswith("paused at game")
        assert "PAUSED" in page.inner_text("#fac-paused") and console.control.paused
        shown = page.inner_text("#fac-game")
        time.sleep(1.5)  # the page refreshes every second; a paused clock shows the same time
        assert page.inner_text("#fac-game") == shown and console.control.paused
        assert page.is_disabled("#fac-pause") and page.is_enabled("#fac-resume")
        page.screenshot(path=str(SHOT), full_page=True)

        page.click("#fac-resume")
        page.wait_for_selector(".flash-notice >> text=resumed at game")
        assert not console.control.paused
        wait_for(lambda: page.inner_text("#fac-game") != shown, 10, "the game clock to move on the page")

        page.click("#fac-abort")
        page.wait_for_selector(".flash-notice >> text=aborting")
        assert confirms and "Abort the whole drill" in confirms[0]
    finally:
        context.close()
        stop_game_day(thread, console)
    result = game_day_result(thread, box)
    assert result.aborted and result.parts[0].outcome == "interrupted"
    with Ledger.of_run(Path(result.parts[0].run_dir)) as ledger:
        assert all(e.state == "reverted" for e in ledger.entries())
    assert SHOT.stat().st_size > 10_000 and SHOT_READY.stat().st_size > 10_000
    [released] = read_events(Path(result.parts[0].run_dir) / "journal.jsonl", "run.released")
    assert released.data["by"].startswith("web") and released.data["waited"] >= 1.0

"""The caller's one scoring pass over a finished run: the score card, the reports, the summary."""

from __future__ import annotations

from typing import Any

from simulator.domain import Outcome
from simulator.report.write import Report, write_reports
from simulator.run.result import RunResult
from simulator.rundir import RunDir


def score_result(result: RunResult, config: Any = None) -> Any:
    """Score the run once (with ``config``, the scoring policy; default: the bundled one), write its
    reports, put the score on ``result`` and rewrite ``summary.json``. Returns the score card, or None
    when the run never got going or scoring failed (said in ``result.teardown_errors``)."""
    folder = RunDir(result.run_dir)
    if Outcome(result.outcome) in (Outcome.ERROR, Outcome.ENVIRONMENT) and not folder.tracker_json.exists():
        return None  # nothing ran: no targets, no tracker, nothing to score
    card = None
    try:
        # a tracker the run used by URL (no database file) is read by that URL: the runner knows it, while an
        # address in a folder's tracker.json is never followed without being asked (scoring.rundata.load_tracker)
        external = None if result.tracker_db and "://" not in result.tracker_db else result.tracker_url
        report = Report.build(folder.path, config, tracker_url=external)
        result.reports = [str(p) for p in write_reports(folder.path, config=config, report=report,
                                                        tracker_url=external)]
        card = report.card
        data = card.to_json()
        result.score = data.get("overall")
        result.ratings = {c["name"]: c["rating"] for c in data.get("capabilities", []) if c.get("share") is not None}
    except Exception as exc:  # noqa: BLE001 - a scoring problem must not lose the run
        result.teardown_errors.append(f"scoring: {type(exc).__name__}: {exc}")
    folder.write_summary(result.to_json())
    return card

"""The run folder ``runs/<run-id>/`` and a drill's folder: every file name in them, in one place.

A run folder is a contract between processes (the runner, the supervisor, Locust, the CLI) and across
time (re-scoring, reports, history, ``gameday cleanup``). ``RunDir`` names its files and reads the two
small records everyone shares (``summary.json``, ``tracker.json``); ``DrillDir`` does the same for a
drill's folder (game day, tabletop, full-scale). Nothing else in ``simulator/`` spells these names
(``tests/unit/test_rundir.py`` holds it to that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.bounded import DamagedFile, finite, load_json
from simulator.runs import write_json_atomic

# ---- a run folder
JOURNAL = "journal.jsonl"  # the append-only record of the run (simulator.journal)
SCENARIO = "scenario.yaml"  # the scenario as run: the ground truth
SUMMARY = "summary.json"  # the run's result (RunResult.to_json)
TARGETS = "targets.json"  # the targets as the backend's supervisor last wrote them
TARGETS_SPEC = "targets.spec.json"  # what the supervisor is asked to start
TARGET_DATA = "targets"  # targets/<name>/: each target's data folder
TARGET_STATE = "state.json"  # targets/<name>/state.json: its ops state (release, flags, config)
COMMAND_DATA = "data"  # targets/<name>/data/: your own service's {data} folder (a database's files)
LOGS = "logs"  # logs/<name>.log: the targets', the fault proxy's, the resource hogs'
SUPERVISOR_LOG = "supervisor.log"
LEDGER = "ledger.sqlite"  # the fault ledger, written before a fault is applied
TRACKER_INFO = "tracker.json"  # which tracker the run used: url, run id, database
TRACKER_DB = "tracker.db"  # the run's own embedded tracker (also a drill's, in its folder)
SCORECARD = "scorecard.json"
REPORT_HTML, REPORT_MD, REPORT_JSON = "report.html", "report.md", "report.json"
JUNIT = "junit.xml"
CONSOLE_LOG = "console.log"  # the facilitator console's commands and answers
LOAD_CONFIG = "load-config.json"  # the load driver's config, as given to Locust
LOAD_STATS = "load-stats.jsonl"  # every stats line Locust streamed back
LOCUST_LOG = "locust.log"
LOCUST_WORKER_LOG = "locust-worker-{index}.log"
LOCUST_CSV = "locust"  # Locust's --csv prefix: locust_stats.csv, locust_stats_history.csv, ...
HOG_LOG = "hog-{fault_id}.log"  # in logs/
PLANE = "monitoring-plane"  # the Prometheus plane's configs, rule files and data (--monitor prometheus)
PLANE_INFO = "plane.json"  # the Prometheus and Alertmanager a run started (pid, start time), for cleanup

# ---- a drill's folder
BRIEFING = "briefing.md"
DEBRIEF_MD, DEBRIEF_HTML = "debrief.md", "debrief.html"
GAMEDAY_JSON = "gameday.json"
COMBINED_MD, COMBINED_HTML = "combined-report.md", "combined-report.html"
FULL_SCALE_JSON = "full-scale.json"
SHARED_TARGETS = "targets"  # a full-scale drill's shared targets: a run-like folder of their own
ROSTER = "roster.json"
MSEL = "msel.jsonl"  # the tabletop's delivered injects
TABLETOP_SCORE, TABLETOP_REPORT = "tabletop-score.json", "tabletop-report.md"
INJECTS = "injects"  # injects/<id>.txt|.log|.svg: what each tabletop inject showed

#: every file name above (templates as their fixed parts): the names no other module may spell
FILE_NAMES: tuple[str, ...] = (
    JOURNAL, SCENARIO, SUMMARY, TARGETS, TARGETS_SPEC, TARGET_STATE, SUPERVISOR_LOG, LEDGER, TRACKER_INFO,
    TRACKER_DB, SCORECARD, REPORT_HTML, REPORT_MD, REPORT_JSON, JUNIT, CONSOLE_LOG, LOAD_CONFIG, LOAD_STATS,
    LOCUST_LOG, "locust-worker-", "hog-", PLANE, PLANE_INFO, BRIEFING, DEBRIEF_MD, DEBRIEF_HTML, GAMEDAY_JSON,
    COMBINED_MD, COMBINED_HTML, FULL_SCALE_JSON, ROSTER, MSEL, TABLETOP_SCORE, TABLETOP_REPORT,
)


@dataclass(frozen=True)
class TrackerInfo:
    """``tracker.json``: the tracker a run used (its URL while it ran; its database, a file or a database
    URL, when there is one)."""

    url: str | None
    run_id: str | None
    db: str | None

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "run_id": self.run_id, "db": self.db}


class _Folder:
    __slots__ = ("path",)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    @property
    def tracker_db(self) -> Path:
        return self.path / TRACKER_DB

    @property
    def junit(self) -> Path:
        return self.path / JUNIT


class RunDir(_Folder):
    """``runs/<run-id>/``: typed paths to its files, and readers for the records more than one module reads."""

    __slots__ = ()

    @property
    def journal(self) -> Path:
        return self.path / JOURNAL

    def is_run(self) -> bool:
        """A run folder is one with a journal."""
        return self.journal.is_file()

    @property
    def scenario(self) -> Path:
        return self.path / SCENARIO

    @property
    def summary_json(self) -> Path:
        return self.path / SUMMARY

    @property
    def targets_json(self) -> Path:
        return self.path / TARGETS

    @property
    def targets_spec(self) -> Path:
        return self.path / TARGETS_SPEC

    def target_data(self, name: str) -> Path:
        return self.path / TARGET_DATA / name

    def command_data(self, name: str) -> Path:
        """``targets/<name>/data/``: what a command target's ``{data}`` names; removed when the targets stop."""
        return self.target_data(name) / COMMAND_DATA

    def target_state(self, name: str) -> Path:
        return self.target_data(name) / TARGET_STATE

    @property
    def logs(self) -> Path:
        return self.path / LOGS

    def log(self, name: str) -> Path:
        """``logs/<name>.log``: a target's, the fault proxy's."""
        return self.logs / f"{name}.log"

    def hog_log(self, fault_id: str) -> Path:
        return self.logs / HOG_LOG.format(fault_id=fault_id)

    @property
    def plane(self) -> Path:
        return self.path / PLANE

    @property
    def plane_json(self) -> Path:
        return self.path / PLANE_INFO

    @property
    def supervisor_log(self) -> Path:
        return self.path / SUPERVISOR_LOG

    @property
    def ledger(self) -> Path:
        return self.path / LEDGER

    @property
    def tracker_json(self) -> Path:
        return self.path / TRACKER_INFO

    @property
    def scorecard(self) -> Path:
        return self.path / SCORECARD

    @property
    def report_html(self) -> Path:
        return self.path / REPORT_HTML

    @property
    def report_md(self) -> Path:
        return self.path / REPORT_MD

    @property
    def report_json(self) -> Path:
        return self.path / REPORT_JSON

    @property
    def console_log(self) -> Path:
        return self.path / CONSOLE_LOG

    @property
    def load_config(self) -> Path:
        return self.path / LOAD_CONFIG

    @property
    def load_stats(self) -> Path:
        return self.path / LOAD_STATS

    @property
    def locust_log(self) -> Path:
        return self.path / LOCUST_LOG

    def locust_worker_log(self, index: int) -> Path:
        return self.path / LOCUST_WORKER_LOG.format(index=index)

    @property
    def locust_csv_prefix(self) -> Path:
        return self.path / LOCUST_CSV

    # ------------------------------------------------------------------ the shared records
    # Read bounded (regular files only, size-capped, strict JSON, MAX_DEPTH) and checked: a damaged or
    # crafted record is a DamagedFile -- an InputError (exit 2, one line naming file and key) and a ValueError.
    def summary(self) -> dict[str, Any] | None:
        """``summary.json``, or None when there is none (or it holds no object). ``OSError`` or
        ``ValueError`` (``DamagedFile``) when it cannot be read."""
        if not self.summary_json.is_file():
            return None
        data = load_json(self.summary_json)
        return data if isinstance(data, dict) else None

    def write_summary(self, data: dict[str, Any]) -> None:
        write_json_atomic(self.summary_json, data)

    def tracker_info(self) -> TrackerInfo | None:
        """``tracker.json``, or None when there is none (or it holds no object). ``OSError`` or
        ``ValueError`` (``DamagedFile``) when it cannot be read or a field is not text."""
        if not self.tracker_json.is_file():
            return None
        data = load_json(self.tracker_json)
        if not isinstance(data, dict):
            return None
        for key in ("url", "run_id", "db"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise DamagedFile(f"{self.tracker_json}: {key}: expected text or null, got "
                                  f"{type(data[key]).__name__}")
        url, run_id, db = data.get("url"), data.get("run_id"), data.get("db")
        return TrackerInfo(url or None, run_id or None, db or None)

    def targets_state(self) -> dict[str, Any]:
        """``targets.json``, checked where other processes' ids are read from it: the supervisor's, the proxy's
        and each target's ``pid`` (a positive whole number or null) and ``create_time`` (a finite number or
        null). ``FileNotFoundError`` when there is none; ``DamagedFile`` when it is damaged."""
        data = load_json(self.targets_json)
        where = str(self.targets_json)
        if not isinstance(data, dict):
            raise DamagedFile(f"{where}: expected a JSON object, got {type(data).__name__}")
        if not isinstance(data.get("run_id", ""), str):
            raise DamagedFile(f"{where}: run_id: expected text")
        targets = data.get("targets") or {}
        if not isinstance(targets, dict):
            raise DamagedFile(f"{where}: targets: expected a JSON object, got {type(targets).__name__}")
        for key, entry in [("supervisor", data.get("supervisor")), ("proxy", data.get("proxy")),
                           *[(f"targets.{n}", t) for n, t in targets.items()],
                           *[(f"targets.{n}.standby", t.get("standby")) for n, t in targets.items()
                             if isinstance(t, dict)]]:
            if entry is None:
                continue
            if not isinstance(entry, dict):
                raise DamagedFile(f"{where}: {key}: expected a JSON object, got {type(entry).__name__}")
            pid, created = entry.get("pid"), entry.get("create_time")
            if pid is not None and (not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0):
                raise DamagedFile(f"{where}: {key}.pid: expected a positive whole number or null, got {pid!r:.40}")
            if created is not None and not finite(created):
                raise DamagedFile(f"{where}: {key}.create_time: expected a finite number or null, "
                                  f"got {created!r:.40}")
        return data

    def write_tracker_info(self, info: TrackerInfo) -> None:
        write_json_atomic(self.tracker_json, info.to_json())

    def tracker_database(self, info: TrackerInfo | None = None) -> Path | None:
        """The run's tracker database: its own ``tracker.db``, or the one ``tracker.json`` names (a drill's
        shared tracker; ``info`` when the caller has read it already); None when neither exists."""
        if self.tracker_db.is_file():
            return self.tracker_db
        if info is None:
            try:
                info = self.tracker_info()
            except (OSError, ValueError):
                info = None
        named = Path(info.db) if info is not None and info.db else None
        return named if named is not None and named.is_file() else None


class DrillDir(_Folder):
    """A drill's folder (``OUT/<drill-id>/``): its tracker, briefing, debrief and combined reports; each
    scenario's run folder sits beside these files."""

    __slots__ = ()

    @property
    def briefing(self) -> Path:
        return self.path / BRIEFING

    @property
    def debrief_md(self) -> Path:
        return self.path / DEBRIEF_MD

    @property
    def debrief_html(self) -> Path:
        return self.path / DEBRIEF_HTML

    @property
    def gameday_json(self) -> Path:
        return self.path / GAMEDAY_JSON

    @property
    def combined_md(self) -> Path:
        return self.path / COMBINED_MD

    @property
    def combined_html(self) -> Path:
        return self.path / COMBINED_HTML

    @property
    def full_scale_json(self) -> Path:
        return self.path / FULL_SCALE_JSON

    @property
    def shared_targets(self) -> Path:
        return self.path / SHARED_TARGETS

    @property
    def roster(self) -> Path:
        return self.path / ROSTER

    @property
    def msel(self) -> Path:
        return self.path / MSEL

    @property
    def tabletop_score(self) -> Path:
        return self.path / TABLETOP_SCORE

    @property
    def tabletop_report(self) -> Path:
        return self.path / TABLETOP_REPORT

    @property
    def injects(self) -> Path:
        return self.path / INJECTS

    def inject(self, inject_id: str, suffix: str) -> Path:
        """``injects/<id><suffix>`` (``.txt``, ``.log``, ``.svg``)."""
        return self.injects / f"{inject_id}{suffix}"

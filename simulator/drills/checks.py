"""Evaluating CI resilience checks on a finished run folder.

Reads only what a run leaves behind -- ``journal.jsonl``, ``summary.json`` and
``load-stats.jsonl`` -- so a run can be re-checked later (``gameday ci --recheck RUN_DIR``).
Each check gives a ``CheckResult`` with the measured figure, the limit and a one-line detail.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simulator.domain.ops_action import OPS_VERBS
from simulator.drills.model import Check
from simulator.durations import format_duration
from simulator.journal import Event, Journal, read_events
from simulator.rundir import RunDir

OPS_KINDS = tuple(f"ops.{verb}" for verb in OPS_VERBS)


@dataclass
class CheckResult:
    name: str
    check: str
    ok: bool
    detail: str
    measured: float | None = None
    limit: float | None = None
    scenario: str = ""
    run_dir: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckedRun:
    """What the checks look at, read once from a run folder."""

    run_dir: Path
    events: list[Event]
    summary: dict[str, Any]
    load_lines: list[dict[str, Any]]

    @classmethod
    def read(cls, run_dir: str | Path) -> CheckedRun:
        folder = RunDir(run_dir)
        journal = folder.journal
        events = sorted(read_events(journal), key=lambda e: e.wall) if journal.exists() else []
        summary = folder.summary() or {}
        lines: list[dict[str, Any]] = []
        stats = folder.load_stats
        if stats.exists():
            for raw in stats.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(rec, dict) and rec.get("type", "stats") == "stats":
                    lines.append(rec)
        return cls(folder.path, events, summary, lines)

    def first(self, kind: str, after: float | None = None, **match: str) -> Event | None:
        for e in self.events:
            if e.kind != kind or (after is not None and e.wall < after):
                continue
            if all(v in str(e.data.get(k, "")) for k, v in match.items()):
                return e
        return None

    def first_of(self, kinds: tuple[str, ...], after: float | None = None) -> Event | None:
        found = [e for e in self.events if e.kind in kinds and (after is None or e.wall >= after)]
        return found[0] if found else None

    @property
    def end_wall(self) -> float:
        end = self.first("load.stopped") or self.first("run.finished")
        return end.wall if end else (self.events[-1].wall if self.events else 0.0)

    @property
    def end_game(self) -> float | None:
        end = self.first("load.stopped") or self.first("run.finished")
        return end.game if end else None

    def first_fault(self) -> Event | None:
        return self.first("fault.injected")


def _delta(a: Event, b: Event, clock: str) -> float | None:
    if clock == "wall":
        return b.wall - a.wall
    if a.game is None or b.game is None:
        return None
    return b.game - a.game


def _fd(x: float | None) -> str:
    return "-" if x is None else format_duration(max(x, 0.0))


def evaluate(check: Check, facts: CheckedRun) -> CheckResult:
    name = check.label()
    fn = _EVALUATORS[check.check]
    ok, detail, measured, limit = fn(check, facts)
    return CheckResult(name, check.check, ok, detail, measured, limit,
                       scenario=str(facts.summary.get("scenario", "")), run_dir=str(facts.run_dir))


def _alert_fires_within(c: Check, f: CheckedRun):
    return _fires_within(c, f, c.alert, "alert")


def _rule_fires_within(c: Check, f: CheckedRun):
    plane = f.first("monitor.plane")
    rules = plane.data.get("rules") if plane is not None else None
    loaded = sorted({str(r.get("name")) for r in rules if isinstance(r, dict) and r.get("name")}) \
        if isinstance(rules, list) else []
    if c.rule not in loaded:
        if plane is None:
            why = "the run loaded no Prometheus rules (it ran on the embedded plane: --monitor prometheus)"
        else:
            why = f"loaded: {', '.join(loaded[:10])}{' ...' if len(loaded) > 10 else ''}" if loaded else \
                "it loaded none"
        return False, f"rule {c.rule} was not loaded in this run ({why})", None, c.within
    return _fires_within(c, f, c.rule, "rule")


def _fires_within(c: Check, f: CheckedRun, name: str | None, what: str):
    """``name`` (any alert when None) fires within ``c.within`` of the first fault (on ``c.target`` when given)."""
    fault = f.first_fault()
    if fault is None:
        return False, f"no fault was injected, so no {what} could be timed", None, c.within
    match = {"alertname": name} if name else {}
    if c.target:
        match["target"] = c.target
    fired = [e for e in f.events if e.kind == "alert.firing" and e.wall >= fault.wall
             and all(str(e.data.get(k)) == v for k, v in match.items())]
    if not fired:
        return False, f"{what} {name or '(any)'} never fired after the fault", None, c.within
    delta = _delta(fault, fired[0], c.clock)
    if delta is None:
        return False, "no game time recorded for the fault or the alert", None, c.within
    ok = delta <= (c.within or 0)
    return ok, (f"{fired[0].data.get('alertname')} fired {_fd(delta)} ({c.clock}) after the fault; "
                f"limit {_fd(c.within)}"), round(delta, 3), c.within


def _recovers_within(c: Check, f: CheckedRun):
    fault = f.first_fault()
    if fault is None:
        return False, "no fault was injected", None, c.within
    if c.after == "revert":
        ref = f.first("fault.reverted", after=fault.wall)
        what = "the revert"
    else:
        ops = f.first_of(OPS_KINDS, after=fault.wall)
        rev = f.first("fault.reverted", after=fault.wall)
        ref = min((e for e in (ops, rev) if e is not None), key=lambda e: e.wall, default=None)
        what = f"the mitigation ({ref.data.get('action') or ref.kind})" if ref is not None else "the mitigation"
    lost = f.first("steady_state.lost", after=fault.wall)
    if lost is None:
        return True, "the steady state never broke", 0.0, c.within
    if ref is None:
        return False, f"no {c.after} happened (nothing was done about the fault)", None, c.within
    restored = f.first("steady_state.restored", after=max(ref.wall, lost.wall))
    if restored is None:
        return False, f"the steady state was not restored after {what}", None, c.within
    delta = _delta(ref, restored, c.clock)
    if delta is None:
        return False, "no game time recorded", None, c.within
    ok = delta <= (c.within or 0)
    return ok, f"steady state restored {_fd(delta)} ({c.clock}) after {what}; limit {_fd(c.within)}", \
        round(delta, 3), c.within


def _no_5xx_while(c: Check, f: CheckedRun):
    assert c.from_event is not None
    start = f.first(c.from_event, **c.match)
    what = c.from_event + (f" {c.match}" if c.match else "")
    if start is None:
        return False, f"the window never opened: no {what} event in the journal", None, 0.0
    if start.game is None:
        return False, f"{what} has no game time", None, 0.0
    end = f.first(c.until_event, after=start.wall) if c.until_event else None
    end_game = end.game if end is not None and end.game is not None else (f.end_game or float("inf"))
    begin = start.game + c.grace
    if c.endpoint:
        return _endpoint_failures(c, f, start, end, begin, end_game)
    bad = [e for e in f.events if e.kind == "sample" and e.game is not None and begin < e.game <= end_game
           and (c.target is None or e.data.get("target") == c.target) and (e.data.get("status_5xx") or 0) > 0]
    total = sum(int(e.data.get("status_5xx") or 0) for e in bad)
    window = f"{_fd(begin)}..{_fd(end_game) if end_game != float('inf') else 'end'} (game)"
    if bad:
        return False, f"{total} 5xx in {len(bad)} interval(s) during {window}, first at {_fd(bad[0].game)}", \
            float(total), 0.0
    return True, f"no 5xx during {window}", 0.0, 0.0


def _endpoint_failures(c: Check, f: CheckedRun, start: Event, end: Event | None, begin: float, end_game: float):
    scale = float(f.summary.get("time_scale") or 1.0)
    wall_begin = start.wall + c.grace / scale
    wall_end = end.wall if end is not None else f.end_wall
    seen = failed = 0
    first: float | None = None
    for ln in f.load_lines:
        t = float(ln.get("t", 0))
        if t - float(ln.get("interval_s") or 1.0) < wall_begin or t > wall_end:
            continue
        if c.target is not None and ln.get("target") != c.target:
            continue
        stats = (ln.get("by_name") or {}).get(c.endpoint) or {}
        seen += int(stats.get("requests") or 0)
        n = int(stats.get("failures") or 0)
        if n and first is None:
            first = t
        failed += n
    window = f"{_fd(begin)}..{_fd(end_game) if end_game != float('inf') else 'end'} (game)"
    if seen == 0:
        return False, f"no '{c.endpoint}' requests during {window}", None, 0.0
    if failed:
        return False, f"{failed} of {seen} '{c.endpoint}' requests failed during {window}", float(failed), 0.0
    return True, f"all {seen} '{c.endpoint}' requests succeeded during {window}", 0.0, 0.0


def _attempt_failed(line: dict[str, Any]) -> bool:
    """A load interval in which some attempt failed: a request failed, or one was retried."""
    failed = int(line.get("status_5xx") or 0) + int(line.get("conn_errors") or 0)
    return failed > 0 or int(line.get("attempts") or 0) > int(line.get("requests") or 0)


def _retry_amplification_below(c: Check, f: CheckedRun):
    fault = f.first_fault()
    if fault is None:
        return False, "no fault was injected", None, c.max_ratio
    # the fault window ends at the first restore; the failing intervals are counted to the end of the run
    restored = f.first("steady_state.restored", after=fault.wall) if c.during == "fault" else None
    end = restored.wall if restored is not None else f.end_wall
    lines = [ln for ln in f.load_lines if fault.wall <= float(ln.get("t", 0)) <= end
             and (c.target is None or ln.get("target") == c.target)]
    if c.during == "failures":
        lines = [ln for ln in lines if _attempt_failed(ln)]
    requests = sum(int(ln.get("requests") or 0) for ln in lines)
    attempts = sum(int(ln.get("attempts") or ln.get("requests") or 0) for ln in lines)
    window = "the fault" if c.during == "fault" else f"the {len(lines)} interval(s) with failed attempts"
    if c.during == "failures" and not lines:
        return True, "no attempt failed after the fault: nothing for retries to amplify", 1.0, c.max_ratio
    if requests == 0:
        return False, f"no requests were recorded during {window}", None, c.max_ratio
    ratio = attempts / requests
    ok = ratio <= (c.max_ratio or 0)
    return ok, (f"{attempts} attempts for {requests} requests during {window} "
                f"({'until restored' if restored else 'until the end'}): {ratio:.2f}x; limit {c.max_ratio:g}x"), \
        round(ratio, 3), c.max_ratio


def _outcome_is(c: Check, f: CheckedRun):
    outcome = f.summary.get("outcome")
    ok = outcome in (c.outcome or [])
    reason = f.summary.get("reason", "")
    expected = " or ".join(c.outcome or [])
    return ok, f"outcome {outcome}" + (f" ({reason})" if reason else "") + f"; expected {expected}", \
        None, None


def _switches_by_itself(c: Check, f: CheckedRun):
    fault = f.first_fault()
    if fault is None or fault.game is None:
        return False, "no fault was injected", None, c.within
    on = next((e for e in f.events if e.kind == "sample" and e.wall >= fault.wall and e.game is not None
               and e.data.get("target") == c.target and (e.data.get("gauges") or {}).get(c.gauge or "", 0) >= 1),
              None)
    if on is None:
        seen = any(c.gauge in (e.data.get("gauges") or {}) for e in f.events
                   if e.kind == "sample" and e.data.get("target") == c.target)
        why = "never reached 1" if seen else "was never scraped"
        return False, f"{c.gauge} on {c.target} {why} after the fault", None, c.within
    pulled = [e for e in f.events if e.kind in OPS_KINDS and fault.wall <= e.wall <= on.wall
              and e.data.get("target") == c.target]
    delta = on.game - fault.game
    if pulled:
        return False, (f"{c.gauge} on {c.target} reached 1 {_fd(delta)} after the fault, but only after "
                       f"{pulled[0].data.get('action') or pulled[0].kind} by {pulled[0].data.get('actor', '?')}: "
                       "someone switched it, it did not switch by itself"), round(delta, 3), c.within
    ok = delta <= (c.within or 0)
    return ok, (f"{c.gauge} on {c.target} switched by itself {_fd(delta)} (game) after the fault, no ops action "
                f"before it; limit {_fd(c.within)}"), round(delta, 3), c.within


def _mitigates_in_actions(c: Check, f: CheckedRun):
    fault = f.first_fault()
    if fault is None:
        return False, "no fault was injected", None, float(c.max_actions or 0)
    restored = next((e for e in f.events if e.kind == "steady_state.restored" and e.wall > fault.wall), None)
    end = restored.wall if restored is not None else f.end_wall
    done = [e for e in f.events if e.kind in OPS_KINDS and fault.wall <= e.wall <= end]
    # a lever the automated responder pulled that was refused (e.g. a rollback with nothing good to go back to)
    fault_game = fault.game if fault.game is not None else 0.0
    end_game = restored.game if restored is not None and restored.game is not None else float("inf")
    refused = [s for s in f.summary.get("responder_steps") or []
               if s.get("do") == "ops" and not s.get("ok") and fault_game <= float(s.get("game") or 0) <= end_game]
    count = len(done) + len(refused)
    names = [str(e.data.get("action") or e.kind) for e in done] + [f"refused: {s.get('error', '?')}" for s in refused]
    listed = "; ".join(names) or "none"
    if restored is None:
        return False, f"the steady state was not restored; {count} ops action(s): {listed}", float(count), \
            float(c.max_actions or 0)
    if not done:
        return False, "the steady state came back with no ops action (nothing to count)", 0.0, float(c.max_actions or 0)
    ok = count <= (c.max_actions or 0)
    detail = f"{count} ops action(s) until the steady state was restored ({listed}); limit {c.max_actions}"
    if c.within is not None:  # from the first attempt, a refused one too (its game time is in the summary)
        delta = _delta(done[0], restored, c.clock)
        if delta is not None and c.clock == "game" and refused and restored.game is not None:
            delta = max(delta, restored.game - min(float(s.get("game") or 0) for s in refused))
        if delta is None or delta > c.within:
            ok = False
        detail += f"; restored {_fd(delta)} ({c.clock}) after the first attempt, limit {_fd(c.within)}"
    return ok, detail, float(count), float(c.max_actions or 0)


_EVALUATORS = {
    "alert_fires_within": _alert_fires_within,
    "rule_fires_within": _rule_fires_within,
    "recovers_within": _recovers_within,
    "no_5xx_while": _no_5xx_while,
    "retry_amplification_below": _retry_amplification_below,
    "outcome_is": _outcome_is,
    "switches_by_itself": _switches_by_itself,
    "mitigates_in_actions": _mitigates_in_actions,
}


def evaluate_all(checks: list[Check], run_dir: str | Path, record: bool = True) -> list[CheckResult]:
    """Evaluate every check on a run folder; with ``record``, append ``check.result`` events to its journal."""
    facts = CheckedRun.read(run_dir)
    results = [evaluate(c, facts) for c in checks]
    journal_path = RunDir(run_dir).journal
    if record and journal_path.exists():
        with Journal(journal_path) as journal:
            for r in results:
                journal.write("check.result", name=r.name, check=r.check, ok=r.ok, detail=r.detail,
                              measured=r.measured, limit=r.limit)
    return results

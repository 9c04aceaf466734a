"""Inject and revert faults with the rollback guarantee.

``FaultEngine.inject`` validates the parameters, checks the target belongs to the run, captures
what undoing needs, writes the ledger row (``pending``), *then* applies the fault, marks it
``active`` and journals ``fault.injected`` with the time it took effect. If applying fails the
fault is reverted at once: never a half-applied fault. A revert is ``reverted`` in the ledger only
when the family's ``verify`` finds the effect gone; otherwise the row is ``failed`` with what is
still there, and ``gameday cleanup`` retries it. ``revert_all`` undoes everything still
open, newest first; it is what the runner calls on every exit path and what ``gameday
cleanup`` calls after a ``kill -9``.
"""

from __future__ import annotations

import difflib
import secrets
import time
from typing import Any

from simulator.errors import EnvironmentProblem, GamedayError, InputError, NotFound, Problem, ValidationFailed
from simulator.faults.catalog import FAULT_KINDS
from simulator.faults.context import Context
from simulator.faults.families import FAMILIES
from simulator.faults.ledger import Entry, Ledger
from simulator.journal import Journal
from simulator.scenario.loader import Locator, validate_data
from simulator.scenario.yamlpos import Positions
from simulator.targets.view import TargetsView

#: policy: how long a revert may take to show its effect gone (a target restarted by its supervisor is running
#: again in about a second) before the ledger says the revert did not take
REVERT_CHECK_SECONDS = 15.0
#: policy: a revert's effect must still be gone this long after it first is
REVERT_SETTLE_SECONDS = 0.3


def validate_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check ``params`` against the kind's model; one-line InputError naming the parameter."""
    spec = FAULT_KINDS.get(kind)
    if spec is None:
        close = difflib.get_close_matches(kind, list(FAULT_KINDS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(f"unknown fault kind {kind!r}{hint}; see 'gameday fault list'")
    model, problems = validate_data(spec.params, params, Locator(f"fault {kind}", Positions()))
    if problems:
        # a misspelt key ("unknown key 'latence' (did you mean 'latency'?)") explains the rest: say it first
        problems = sorted(problems, key=lambda p: not p.message.startswith("unknown key"))
        raise ValidationFailed([Problem(p.file, None, None, f"params.{p.path}" if p.path else "params", p.message)
                                for p in problems])
    assert model is not None
    return model.model_dump(mode="json")


class FaultEngine:
    def __init__(self, view: TargetsView, journal: Journal | None = None, lifetime: float = 3600.0,
                 owner: str | None = None):
        """``owner``: the run recorded on this engine's ledger rows (default: the targets' run). Runs sharing
        targets (full-scale) share the ledger and each owns, and reverts at its end, only its own rows."""
        self.view = view
        self.ledger = Ledger.of_run(view.run_dir)
        self.journal = journal
        self.lifetime = lifetime
        self.owner = owner or view.run_id

    def close(self) -> None:
        self.ledger.close()

    def _journal(self, event: str, /, **data: Any) -> None:
        if self.journal is not None:
            self.journal.write(event, **data)

    def inject(self, kind: str, target: str, params: dict[str, Any] | None = None,
               fault_id: str | None = None, note: str = "") -> Entry:
        clean = validate_params(kind, params or {})
        spec = FAULT_KINDS[kind]
        if self.view.backend not in spec.backends:
            raise InputError(f"{kind} needs the {' or '.join(spec.backends)} backend; this run uses "
                             f"{self.view.backend}")
        if spec.family == "proxy":
            self.view.proxy_name(target)
        else:
            self.view.target(target)  # SafetyViolation for anything this run did not start
        fault_id = fault_id or f"f-{secrets.token_hex(3)}"
        if self.ledger.has(fault_id):
            raise InputError(f"fault id {fault_id!r} already used in run {self.view.run_id}")
        family = FAMILIES[spec.family]
        ctx = Context(self.view, fault_id, self.lifetime)
        revert = family.prepare(ctx, target, kind, clean)
        self.ledger.record(fault_id, self.owner, kind, target, clean, revert)
        try:
            revert = family.apply(ctx, target, kind, clean, revert)
        except Exception as exc:
            self.ledger.update_revert(fault_id, revert)
            self._undo_failed(fault_id, family, ctx, target, kind, revert, exc)
            raise
        effective = time.time()
        self.ledger.mark_active(fault_id, revert, effective)
        self._journal("fault.injected", id=fault_id, kind=kind, target=target, params=clean,
                      effective_at=effective, note=note)
        return self.ledger.get(fault_id)

    def _undo_failed(self, fault_id, family, ctx, target, kind, revert, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, GamedayError) else f"{type(exc).__name__}: {exc}"
        try:
            family.revert(ctx, target, kind, revert)
            problem = self._still_there(family, ctx, target, kind, revert)
            if problem is not None:
                raise EnvironmentProblem(f"still there: {problem}")
            self.ledger.mark_reverted(fault_id, "failed-inject", time.time())
        except Exception as undo_exc:  # noqa: BLE001 - keep the row open for cleanup
            message += f"; undo also failed: {undo_exc}"
            self.ledger.mark_failed(fault_id, message)
        self._journal("fault.failed", id=fault_id, kind=kind, target=target, error=message)

    def revert(self, fault_id: str, by: str = "ops") -> Entry:
        try:
            entry = self.ledger.get(fault_id)
        except KeyError:
            ids = ", ".join(e.id for e in self.ledger.entries()) or "none"
            raise NotFound(f"no fault {fault_id!r} in run {self.view.run_id}; faults: {ids}") from None
        if entry.state == "reverted":
            return entry
        spec = FAULT_KINDS[entry.kind]
        family, ctx = FAMILIES[spec.family], Context(self.view, entry.id, self.lifetime)
        started = time.time()
        try:
            family.revert(ctx, entry.target, entry.kind, entry.revert)
            problem = self._still_there(family, ctx, entry.target, entry.kind, entry.revert)
            if problem is not None:
                raise EnvironmentProblem(f"reverted, but the fault is still there: {problem}; "
                                         "'gameday cleanup' retries it")
        except Exception as exc:
            message = str(exc) if isinstance(exc, GamedayError) else f"{type(exc).__name__}: {exc}"
            self.ledger.mark_failed(entry.id, f"revert failed: {message}")
            self._journal("fault.failed", id=entry.id, kind=entry.kind, target=entry.target,
                          error=f"revert failed: {message}")
            raise
        done = time.time()
        self.ledger.mark_reverted(entry.id, by, done)
        self._journal("fault.reverted", id=entry.id, kind=entry.kind, target=entry.target, how=by,
                      reverted_at=done, took=round(done - started, 4))
        return self.ledger.get(entry.id)

    def _still_there(self, family, ctx: Context, target: str, kind: str, revert: dict[str, Any]) -> str | None:
        """What of the fault is still there after its revert, or None. Checked again for up to
        ``REVERT_CHECK_SECONDS`` (a restarted target takes a moment to be running again); once gone, checked once
        more after ``REVERT_SETTLE_SECONDS``, so an effect that comes straight back does not count as gone."""
        deadline = time.monotonic() + REVERT_CHECK_SECONDS
        while True:
            problem = family.verify(ctx, target, kind, revert)
            if problem is None:
                time.sleep(REVERT_SETTLE_SECONDS)
                problem = family.verify(ctx, target, kind, revert)
            if problem is None or time.monotonic() > deadline:
                return problem
            time.sleep(0.25)

    def revert_all(self, by: str = "end", owner: str | None = None) -> tuple[list[Entry], list[str]]:
        """Revert every open fault (of ``owner`` only, when given), newest first. Returns (reverted, errors);
        never stops early."""
        done, errors = [], []
        for entry in self.ledger.open_entries():
            if owner is not None and entry.run_id != owner:
                continue
            try:
                done.append(self.revert(entry.id, by=by))
            except Exception as exc:  # noqa: BLE001 - try every fault, report all
                errors.append(f"{entry.id} ({entry.kind} on {entry.target}): {exc}")
        return done, errors

    def entries(self) -> list[Entry]:
        return self.ledger.entries()

"""Escalation to the owning team (``escalate:<target>``, the scenario's ``targets[].owner``).

* **The line** (``mitigation_escalation``): the fault sat in a target a team owns; was that team escalated to
  (``escalate:<the faulted target>``; a link ``a->b`` is ``b``'s), after the problem was detected (the first
  alert, or a person opening the incident), and how soon: against the policy's ``escalate_owner`` target (the
  standard asks for "escalation paths for each service" and sets no time). Escalating another team, or before
  anything was detected, earns nothing.
* **The credit** (``owners.credited_ops``): the recovery the owning team's fix causes is the escalation's, only
  for an escalation to the right team after detection.
"""

from __future__ import annotations

from simulator.scoring.rubric.context import Context
from simulator.scoring.rubric.owners import PAGE_MATCH_SECONDS, dependency, owner_fixes, owner_of
from simulator.scoring.rubric.verdict import Verdict, dur, jref, missed, na, utc


def mitigation_escalation(c: Context) -> Verdict:
    if c.fault is None:
        return na("no fault took effect in this run")
    target = dependency(c.fault)
    team = owner_of(c.data, target)
    escalations = [o for o in c.facts.ops if o.verb == "escalate"]
    if team is None:
        if escalations:
            return na(f"the fault was in {target}, which no team owns in this scenario; escalated "
                      f"{', '.join(o.target for o in escalations)}")
        return na(f"the fault was in {target}, which no team owns in this scenario")
    right = [o for o in escalations if o.target == target]
    wrong = [o for o in escalations if o.target != target]
    also = f"; also escalated {', '.join(dict.fromkeys(o.action for o in wrong))} (not the fault's owner)" \
        if wrong and right else ""
    detected = c.anchor[0] if c.anchor is not None else None
    if not right:
        if wrong:
            return missed(f"escalated {', '.join(dict.fromkeys(o.action for o in wrong))}; the fault was in {target}, "
                          f"owned by {team}", evidence=[jref(o.seq, "ops.escalate") for o in wrong[:3]])
        own = c.mitigation.action
        if own is not None and c.accepted(own):
            return na(f"the team restored {target} itself ({own.action}): no escalation to {team} was needed")
        if c.lost is None:
            return na("the steady state never broke and no escalation was needed")
        return missed(f"the fault was in {target}, owned by {team}, and {team} was never escalated to "
                      f"(escalate:{target})")
    after = [o for o in right if detected is not None and o.at.wall >= detected.wall]
    if not after:
        first = right[0]
        when = "no alert fired and no incident was opened" if detected is None else f"detected at {utc(detected.wall)}"
        return missed(f"escalated to {team} at {utc(first.at.wall)}, before anything was detected ({when}): a guess, "
                      "not a response", evidence=[jref(first.seq, "ops.escalate")])
    esc = after[0]
    assert detected is not None and c.anchor is not None
    verdict = c.timed(detected, esc.at, "escalate_owner", f"escalated to {team} ({esc.action}) after the "
                      f"{c.anchor[1]}", evidence=[jref(esc.seq, "ops.escalate")])
    fixed = [f for f in owner_fixes(c.data) if f.target == target and f.faults
             and abs(f.paged_wall - esc.at.wall) <= PAGE_MATCH_SECONDS]
    if fixed:
        verdict.reason += f"; {team}'s fix landed {dur(fixed[0].at.wall - esc.at.wall)} (wall) later"
        verdict.evidence.append(jref(fixed[0].seq, "owner.fixed"))
    verdict.reason += also
    return verdict

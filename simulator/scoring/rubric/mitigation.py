"""Mitigation: the right action, a permanent fix, and no harmful action."""

from __future__ import annotations

from simulator.scoring.rubric.context import Context
from simulator.scoring.rubric.verdict import Verdict, jref, missed, na, utc


def mitigation_choice(c: Context) -> Verdict:
    if c.truth is None:
        return na("no ground truth: the accepted mitigations are unknown")
    if c.fault is None:
        return na("no fault took effect in this run")
    accepted = ", ".join(c.truth.accepted_mitigations)
    if not c.team_ops:
        if c.lost is None:
            return na("the steady state never broke and no action was taken")
        return missed(f"no ops action was taken (accepted: {accepted}); {c.mitigation.explanation}")
    m = c.mitigation
    chosen = m.action or c.team_ops[0]
    ev = [jref(chosen.seq, f"ops.{chosen.verb}") if chosen.source == "journal" else f"tracker ops.{chosen.verb}"]
    pattern = c.accepted(chosen)
    if m.action is not None:
        if pattern:
            return Verdict(1.0, f"{chosen.action} restored the steady state and is an accepted mitigation "
                                f"({pattern})", evidence=ev)
        return Verdict(0.5, f"{chosen.action} restored the steady state but is not among the accepted mitigations "
                            f"({accepted})", evidence=ev)
    tried = ", ".join(dict.fromkeys(o.action for o in c.team_ops))
    good = [o for o in c.team_ops if c.accepted(o)]
    if good:
        return Verdict(0.5, f"accepted mitigation {good[0].action} was applied but the metrics did not confirm it "
                            f"restored the steady state ({m.explanation}); actions: {tried}", evidence=ev)
    return missed(f"actions taken ({tried}) are not among the accepted mitigations ({accepted}); {m.explanation}",
                  evidence=ev)



def mitigation_permanence(c: Context) -> Verdict:
    if c.truth is None:
        return na("no ground truth")
    if not c.truth.permanent_fixes:
        return na("the scenario names no permanent fix")
    if c.fault is None:
        return na("no fault took effect in this run")
    if not c.team_ops:
        if c.lost is None:
            return na("the steady state never broke and no action was taken")
        return missed(f"no fix applied (permanent fixes: {', '.join(c.truth.permanent_fixes)})")
    permanent = [o for o in c.team_ops if c.permanent(o)]
    if permanent:
        return Verdict(1.0, f"permanent fix applied: {permanent[0].action}")
    temporary = [o for o in c.team_ops if c.accepted(o)]
    inc = c.incident
    fix_items = []
    if inc is not None and inc.postmortem is not None:
        fix_items = [i for i in inc.postmortem.action_items if i.type == "fix" and i.action.strip()]
    if temporary and fix_items:
        return Verdict(1.0, f"temporary mitigation {temporary[0].action}; the permanent fix is tracked as action item "
                            f"'{fix_items[0].action[:60]}'")
    if temporary:
        return Verdict(c.cfg.mitigation.temporary_share,
                       f"only a temporary mitigation ({temporary[0].action}); no permanent fix "
                       f"({', '.join(c.truth.permanent_fixes)}) applied or tracked as a 'fix' action item")
    return missed(f"neither a permanent fix ({', '.join(c.truth.permanent_fixes)}) nor an accepted mitigation "
                  "was applied")



def mitigation_harm(c: Context) -> Verdict:
    if c.truth is None:
        return na("no ground truth: harmful actions are unknown")
    if not c.team_ops:
        return na("no ops action was taken")
    harmful = [(o, p) for o in c.team_ops if (p := c.harmful(o))]
    if not harmful:
        listed = ", ".join(c.truth.harmful_actions) or "none listed"
        return Verdict(1.0, f"none of the {len(c.team_ops)} action(s) is harmful (harmful: {listed})")
    fraction = max(0.0, 1.0 - c.cfg.mitigation.harm_per_action * len(harmful))
    details = []
    window = max(5.0, 30.0 / max(c.data.time_scale, 1e-9))  # wall seconds: 30 game seconds, at least 5 samples
    for o, _pattern in harmful[:4]:
        before = c.error_share(o.target, o.at.wall - window, o.at.wall)
        after = c.error_share(o.target, o.at.wall, o.at.wall + window)
        effect = ""
        if before is not None and after is not None:
            effect = f" (failed share {before:.0%} -> {after:.0%})"
        details.append(f"{o.action} at {utc(o.at.wall)}{effect}")
    return Verdict(fraction, f"{len(harmful)} harmful action(s), -{c.cfg.mitigation.harm_per_action:.0%} each: "
                             + "; ".join(details),
                   evidence=[jref(o.seq, f"ops.{o.verb}") for o, _ in harmful[:4] if o.source == "journal"])

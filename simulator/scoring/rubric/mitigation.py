"""Mitigation: the right action (credited by evidence, ``attribution``), a permanent fix, and no harmful action.

Rollback, feature flags, added resources and restarts are temporary (the standard's "temporary
mitigation"); the permanent fix is the truth's ``permanent_fixes`` (a fixed release deployed, a corrected
config), applied or planned as an action item of type fix.
"""

from __future__ import annotations

from simulator.domain.ops_action import TEMPORARY_VERBS
from simulator.scoring.rubric.attribution import Mitigation, ops_ref
from simulator.scoring.rubric.context import Context
from simulator.scoring.rubric.owners import premature
from simulator.scoring.rubric.verdict import Verdict, jref, missed, na, utc


def mitigation_choice(c: Context) -> Verdict:
    if c.truth is None:
        return na("no ground truth: the accepted mitigations are unknown")
    if c.fault is None:
        return na("no fault took effect in this run")
    accepted = ", ".join(c.truth.accepted_mitigations)
    m = c.mitigation
    if m.before_impact:
        assert m.action is not None
        return Verdict(1.0, f"{m.explanation}; {m.action.action} is an accepted mitigation "
                            f"({c.accepted(m.action)})", evidence=m.evidence)
    if not c.team_ops:
        if c.lost is None:
            return na("the steady state never broke and no action was taken")
        return missed(f"no ops action was taken (accepted: {accepted}); {m.explanation}")
    chosen = m.action or c.team_ops[0]
    ev = m.evidence or [ops_ref(chosen)]
    pattern = c.accepted(chosen)
    if m.action is not None:
        if pattern:
            return Verdict(1.0, f"{m.explanation}; an accepted mitigation ({pattern}){noted(m)}", evidence=ev)
        return Verdict(0.5, f"{m.explanation}; not among the accepted mitigations ({accepted}){noted(m)}",
                       evidence=ev)
    tried = ", ".join(dict.fromkeys(o.action for o in c.team_ops))
    good = [o for o in c.team_ops if c.accepted(o)]
    if good:
        return Verdict(0.5, f"accepted mitigation {good[0].action} was applied but the metrics did not confirm it "
                            f"restored the steady state ({m.explanation}); actions: {tried}", evidence=ev)
    early = [o.action for o in c.team_ops if premature(o, c.anchor[0] if c.anchor else None)]
    guess = f" ({', '.join(early)} came before anything was detected: a guess earns no credit)" if early else ""
    return missed(f"actions taken ({tried}) are not among the accepted mitigations ({accepted}){guess}; "
                  f"{m.explanation}", evidence=ev)


def noted(m: Mitigation) -> str:
    """The later losses that did not take the credit back, for the end of a line's reason."""
    return "".join(f"; {note}" for note in m.notes)


def mitigation_permanence(c: Context) -> Verdict:
    if c.truth is None:
        return na("no ground truth")
    if not c.truth.permanent_fixes:
        return na("the scenario names no permanent fix")
    if c.fault is None:
        return na("no fault took effect in this run")
    fixes = ", ".join(c.truth.permanent_fixes)
    if not c.team_ops:
        if c.lost is None:
            return na("the steady state never broke and no action was taken")
        return missed(f"no fix applied (permanent fixes: {fixes})")
    permanent = [o for o in c.team_ops if c.permanent(o)]
    if permanent:
        fix = permanent[0]
        return Verdict(1.0, f"permanent fix applied: {fix.action} ({c.permanent(fix)})", evidence=[ops_ref(fix)])
    temporary = [o for o in c.team_ops if c.accepted(o)]
    inc = c.incident
    fix_items = []
    if inc is not None and inc.postmortem is not None:
        fix_items = [i for i in inc.postmortem.action_items if i.type == "fix" and i.action.strip()]
    if not temporary:
        return missed(f"neither a permanent fix ({fixes}) nor an accepted mitigation was applied")
    first = temporary[0]
    kind = TEMPORARY_VERBS.get(first.verb, "not the full fix")
    if fix_items:
        return Verdict(1.0, f"temporary mitigation {first.action} ({kind}); the permanent fix is planned: tracked as "
                            f"action item '{fix_items[0].action[:60]}' (type fix)", evidence=[ops_ref(first)])
    return Verdict(c.cfg.mitigation.temporary_share,
                   f"only a temporary mitigation: {first.action} ({kind}); the standard's next step, 'implement full "
                   f"fix', was neither applied ({fixes}) nor planned (an action item of type fix)",
                   evidence=[ops_ref(first)])


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

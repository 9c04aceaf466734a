"""The response process: roles, channel name, status-update cadence and completeness, the
investigation checklist, customer communication."""

from __future__ import annotations

from simulator.scoring import severity as sev
from simulator.scoring.judge import filler
from simulator.scoring.rubric.context import Context, need_incident
from simulator.scoring.rubric.verdict import Verdict, dur, missed, na, tref, utc
from simulator.scoring.rundata import Moment
from simulator.scoring.text import substantive, why_not_substantive


def process_roles(c: Context) -> Verdict:
    code = c.severity if c.truth else (c.incident.declared_severity if c.incident else None) or c.severity
    if not sev.roles_required(code):
        return na(f"roles are required for {', '.join(sev.ROLES_REQUIRED_FOR)}; this incident is {code}")
    if (v := need_incident(c, "staff")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    deadline = c.first_mitigation_moment()
    label = "the first mitigation"
    if deadline is None:
        deadline = inc.resolved_final or c.end
        label = "resolution" if inc.resolved_final else "the end of the run"
    on_time = {r.role: r for r in inc.roles if r.at.wall <= deadline.wall + 0.5}
    late = {r.role: r for r in inc.roles if r.role not in on_time}
    missing = [sev.ROLES[k] for k in sev.ROLES if k not in on_time and k not in late]
    credited = [k for k in sev.ROLES if k in on_time]
    doubled: dict[str, list[str]] = {}
    if c.cfg.roles.distinct:  # one person holding several roles counts once (policy: roles.distinct)
        seen: dict[str, str] = {}
        for k in list(credited):
            person = on_time[k].person.strip().lower()
            if person in seen:
                credited.remove(k)
                doubled.setdefault(on_time[k].person, [sev.ROLES[seen[person]]]).append(sev.ROLES[k])
            else:
                seen[person] = k
    fraction = len(credited) / len(sev.ROLES)
    parts = [f"{len(credited)}/{len(sev.ROLES)} roles held by distinct people before {label} ({code} needs all four"
             + (", four different people: policy roles.distinct)" if c.cfg.roles.distinct else ")")]
    for person, roles in doubled.items():
        parts.append(f"{person} holds {len(roles)} roles ({', '.join(roles)}): counted once")
    if late:
        parts.append("late: " + ", ".join(sev.ROLES.get(k, k) for k in late))
    if missing:
        parts.append("never assigned: " + ", ".join(missing))
    return Verdict(fraction, "; ".join(parts), evidence=[tref(inc, "incident.role_assigned")] if inc.roles else [])


def process_status_cadence(c: Context) -> Verdict:
    if (v := need_incident(c, "update")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if inc.declared is None:
        return missed("the incident was never declared, so no update cadence ran")
    if not inc.status_updates:
        return missed("no status update was posted")
    t = c.target_of("status_update")
    cadence, clock = t.seconds, t.clock
    end = inc.resolved_final or c.end
    times = [inc.declared] + [u.at for u in inc.status_updates if u.at.wall <= end.wall] + [end]
    gaps = [c.span(a, b, "status_update") or 0.0 for a, b in zip(times, times[1:], strict=False)]
    ok = [g <= cadence + 1e-6 for g in gaps]
    cadence_share = sum(ok) / len(ok) if ok else 0.0
    kept = total = 0
    broken: list[str] = []
    for i, u in enumerate(inc.status_updates):
        if u.next_update_by is None:
            continue
        nxt = inc.status_updates[i + 1].at.wall if i + 1 < len(inc.status_updates) else None
        closed_by = inc.resolved_final.wall if inc.resolved_final else None
        if nxt is None and (closed_by is None or closed_by > u.next_update_by) and c.end.wall < u.next_update_by:
            continue  # the run ended before the promise fell due
        total += 1
        met = (nxt is not None and nxt <= u.next_update_by + 1) or (closed_by is not None
                                                                    and closed_by <= u.next_update_by + 1)
        kept += met
        if not met:
            broken.append(f"update at {utc(u.at.wall)} promised the next by {utc(u.next_update_by)}")
    promise_share = kept / total if total else 1.0
    ps = c.cfg.status_updates.promise_share
    fraction = (1 - ps) * cadence_share + ps * promise_share
    worst = max(gaps) if gaps else 0.0
    text = (f"{len(inc.status_updates)} update(s); {sum(ok)}/{len(ok)} intervals within the {dur(cadence)} "
            f"{clock} cadence ({c.severity}; {t.basis}) from declaration to "
            f"{'resolution' if inc.resolved_final else 'the end of the run'} (longest {dur(worst)} {clock} time)")
    text += f"; promises kept {kept}/{total} (wall clock)" if total else "; no 'next update by' promise fell due"
    if broken:
        text += "; broken: " + "; ".join(broken[:3])
    return Verdict(fraction, text, measured=round(worst, 3), target=cadence, source=t.source, basis=t.basis,
                   clock=clock, evidence=[tref(inc, "incident.status_update")])



def process_status_complete(c: Context) -> Verdict:
    if (v := need_incident(c, "update")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if not inc.status_updates:
        return missed("no status update was posted")
    min_words = max(1, c.cfg.postmortem.min_words - 1)
    facts = c.incident_facts()  # "Looking around." says nothing about this incident
    problems = []
    good = 0
    for n, u in enumerate(inc.status_updates, start=1):
        missing = []
        if u.status not in sev.STATUS_UPDATE_STATUSES:
            missing.append(f"status {u.status!r}")
        for label, value in (("what we know", u.what_we_know), ("what we're doing", u.what_we_are_doing)):
            if not substantive(value, min_words):
                missing.append(f"'{label}' {why_not_substantive(value, min_words)}")
            elif why := filler(value, facts):
                missing.append(f"'{label}': {why}")
        if u.next_update_by is None:
            missing.append("no 'next update expected by'")
        if not u.headline.strip():
            missing.append("no incident line")
        if missing:
            problems.append(f"update {n}: " + ", ".join(missing))
        else:
            good += 1
    fraction = good / len(inc.status_updates)
    text = f"{good}/{len(inc.status_updates)} update(s) fill every field of the template"
    if problems:
        text += "; " + "; ".join(problems[:3])
    return Verdict(fraction, text)



def process_checklist(c: Context) -> Verdict:
    if (v := need_incident(c, "investigate")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    # the investigation: from the incident being picked up until the first mitigation (or resolution)
    start = inc.acknowledged or inc.declared or inc.created
    end = c.first_mitigation_moment() or inc.resolved_final
    during, outside = [], []
    for k, at in inc.checklist.items():
        if k not in sev.CHECKLIST:
            continue
        early = start is not None and at.wall < start.wall - 0.5
        too_late = end is not None and at.wall > end.wall + 0.5
        (outside if early or too_late else during).append(k)
    missing = [label for k, label in sev.CHECKLIST.items() if k not in during and k not in outside]
    fraction = len(during) / len(sev.CHECKLIST)
    until = "the first mitigation" if c.first_mitigation_moment() else "resolution" if inc.resolved_final else "the end"
    text = f"{len(during)}/{len(sev.CHECKLIST)} checklist items ticked during the investigation (before {until})"
    if outside:
        text += f"; {len(outside)} ticked outside it (after the fix, or before picking the incident up), not " \
                "counted: " + ", ".join(sev.CHECKLIST[k] for k in outside)
    if missing:
        text += "; not done: " + "; ".join(missing)
    return Verdict(fraction, text, evidence=[tref(inc, "incident.checklist")] if inc.checklist else [])


def process_customer_comms(c: Context) -> Verdict:
    """A deliberate act: a status update flagged external (status page) or a customer message recorded in
    the tracker. Words in an internal update do not count: "No users affected" is not telling anyone."""
    if c.truth is not None and not c.truth.customer_impact:
        return na("the truth says customers were not affected: no customer communication needed")
    if (v := need_incident(c, "communicate")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    acts: list[tuple[Moment, str, str]] = [
        (u.at, "external status update", "incident.status_update") for u in inc.status_updates
        if u.audience == "external"]
    acts += [(t.at, f"customer message via {t.data.get('channel') or '?'}", "incident.customer_message")
             for t in inc.timeline if t.kind == "incident.customer_message"]
    if not acts:
        internal = len(inc.status_updates)
        return missed("customers were affected but nobody told them: no status update was flagged external "
                      "(status page) and no customer message was recorded"
                      + (f" ({internal} internal update(s) only)" if internal else ""))
    at, what, kind = min(acts, key=lambda a: a[0].wall)
    start = inc.declared or (c.anchor[0] if c.anchor else None)
    return c.timed(start, at, "customer_comms", f"{'declared' if inc.declared else 'detected'} -> first customer "
                   f"communication ({what})", evidence=[tref(inc, kind)])

"""The response process: roles, channel name, status-update cadence and completeness, the
investigation checklist, customer communication."""

from __future__ import annotations

from simulator.scoring import severity as sev
from simulator.scoring.rubric.context import Context, need_incident
from simulator.scoring.rubric.verdict import Verdict, dur, missed, na, tref, utc
from simulator.scoring.rundata import Moment
from simulator.scoring.text import mentions_any, substantive, why_not_substantive


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
    fraction = len([k for k in sev.ROLES if k in on_time]) / len(sev.ROLES)
    parts = [f"{len(on_time)}/{len(sev.ROLES)} roles assigned before {label} ({code} needs all four)"]
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
    cadence = c.target("status_update")
    end = inc.resolved_final or c.end
    times = [inc.declared] + [u.at for u in inc.status_updates if u.at.wall <= end.wall] + [end]
    gaps = [c.span(a, b) or 0.0 for a, b in zip(times, times[1:], strict=False)]
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
            f"{c.clock} cadence ({c.severity}) from declaration to "
            f"{'resolution' if inc.resolved_final else 'the end of the run'} (longest {dur(worst)})")
    text += f"; promises kept {kept}/{total} (wall clock)" if total else "; no 'next update by' promise fell due"
    if broken:
        text += "; broken: " + "; ".join(broken[:3])
    return Verdict(fraction, text, evidence=[tref(inc, "incident.status_update")])



def process_status_complete(c: Context) -> Verdict:
    if (v := need_incident(c, "update")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    if not inc.status_updates:
        return missed("no status update was posted")
    min_words = max(1, c.cfg.postmortem.min_words - 1)
    problems = []
    good = 0
    for n, u in enumerate(inc.status_updates, start=1):
        missing = []
        if u.status not in sev.STATUS_UPDATE_STATUSES:
            missing.append(f"status {u.status!r}")
        if not substantive(u.what_we_know, min_words):
            missing.append(f"'what we know' {why_not_substantive(u.what_we_know, min_words)}")
        if not substantive(u.what_we_are_doing, min_words):
            missing.append(f"'what we're doing' {why_not_substantive(u.what_we_are_doing, min_words)}")
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
    by = inc.resolved_final
    ticked = [k for k, at in inc.checklist.items() if k in sev.CHECKLIST and (by is None or at.wall <= by.wall + 0.5)]
    missing = [label for k, label in sev.CHECKLIST.items() if k not in ticked]
    fraction = len(ticked) / len(sev.CHECKLIST)
    text = f"{len(ticked)}/{len(sev.CHECKLIST)} checklist items ticked" + (" before resolution" if by else "")
    if missing:
        text += "; not done: " + "; ".join(missing)
    return Verdict(fraction, text, evidence=[tref(inc, "incident.checklist")] if ticked else [])



def process_customer_comms(c: Context) -> Verdict:
    if c.truth is not None and not c.truth.customer_impact:
        return na("the truth says customers were not affected: no customer communication needed")
    if (v := need_incident(c, "communicate")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    found: tuple[Moment, str, str] | None = None
    texts: list[tuple[Moment, str, str]] = [
        (u.at, f"{u.headline} {u.what_we_know} {u.what_we_are_doing}", "status update") for u in inc.status_updates]
    texts += [(n.at, f"{n.summary} {n.data.get('text') or ''}", "note") for n in inc.notes]
    for at, text, what in sorted(texts, key=lambda t: t[0].wall):
        phrase = mentions_any(text, c.cfg.customer_keywords)
        if phrase:
            found = (at, what, phrase)
            break
    if found is None:
        return missed("customers were affected but no status update or note mentions telling them "
                      f"(looked for: {', '.join(c.cfg.customer_keywords[:5])}, ...)")
    start = inc.declared or (c.anchor[0] if c.anchor else None)
    v = c.timed(start, found[0], "customer_comms", f"{'declared' if inc.declared else 'detected'} -> first customer "
                f"communication ({found[1]} mentioning '{found[2]}')")
    return v

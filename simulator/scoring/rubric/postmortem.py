"""The post-mortem: sections, the timeline against the journal, root cause, detection questions,
action items, and the meeting date."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from simulator.scoring import severity as sev
from simulator.scoring.judge import filler, refers_to_incident, root_cause
from simulator.scoring.rubric.context import Context
from simulator.scoring.rubric.verdict import Verdict, dur, missed, na, unobserved, utc
from simulator.scoring.rundata import Moment
from simulator.scoring.text import keywords_found, substantive, why_not_substantive
from simulator.tracker.postmortem import placeholder_marker
from simulator.tracker.timeutil import add_business_days

NAMES_NOTHING = "names nothing"  # the start of filler()'s reason when a text names nothing of the incident


def _need_postmortem(c: Context) -> Verdict | None:
    if not c.tracker_observed:
        return unobserved()
    inc = c.incident
    if inc is None:
        if c.first_alert is None and c.lost is None:
            return na("no incident: no post-mortem expected")
        return missed("no incident was opened, so no post-mortem was written")
    pm = inc.postmortem
    if pm is None or not pm.exists:
        if inc.resolved_final is None:
            return missed(f"{inc.ref} was never resolved, so no post-mortem was written (score the run again with "
                          "'gameday score' once it is resolved and written)")
        return missed(f"no post-mortem was written for {inc.ref} (score the run again if it is written later)")
    if not pm.content_known:
        edited = ", ".join(pm.edited_fields) or "nothing"
        return unobserved(f"the post-mortem was edited ({pm.edits} edit(s): {edited}) but its text is in the "
                          "tracker database, which is not in the run folder")
    return None



def pm_sections(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    pm = inc.postmortem
    min_words = c.cfg.postmortem.min_words
    facts = c.incident_facts()  # each section must be about this incident: filler names nothing of it
    good, problems = 0, []
    for section in sev.POSTMORTEM_SECTIONS:
        if section.key == "action_items":
            ok = any(substantive(i.action, 2) for i in pm.action_items)
            if not ok:
                problems.append("Action Items: none")
        else:
            bad = []
            for fld in section.fields:
                value = pm.fields.get(fld.key, "")
                name = fld.label if len(section.fields) > 1 else section.title
                need = 1 if section.style == "labelled" and fld.key != "overview_customer_impact" else min_words
                if not substantive(value, need):
                    bad.append(f"{name} {why_not_substantive(value, need)}")
                elif need > 1 and (why := filler(value, facts)) and not why.startswith(NAMES_NOTHING):
                    bad.append(f"{name}: {why}")
            joined = "\n".join(pm.fields.get(fld.key, "") for fld in section.fields)
            if not bad and not refers_to_incident(joined, facts):
                bad.append("names nothing from this incident (no service, alert, symptom, action, metric, time or "
                           "figure)")
            ok = not bad
            if bad:
                problems.append(f"{section.title}: " + "; ".join(bad))
        good += ok
    n = len(sev.POSTMORTEM_SECTIONS)
    text = f"{good}/{n} sections present and substantive"
    if problems:
        text += " -- " + " | ".join(problems)
    return Verdict(good / n, text)



_TL_LINE = re.compile(r"^\s*[-*]\s*\**\s*(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*UTC)?\s*\**\s*"
                      r"[:\-–—]?\s*\**\s*(.*)$")



def parse_timeline(text: str, default_day: date) -> list[tuple[float, str]]:
    """``- **HH:MM:SS UTC**: what`` lines -> (wall, what). Lines without a time are skipped."""
    out = []
    for line in (text or "").splitlines():
        m = _TL_LINE.match(line)
        if not m:
            continue
        day = date.fromisoformat(m.group(1)) if m.group(1) else default_day
        try:
            when = datetime(day.year, day.month, day.day, int(m.group(2)), int(m.group(3)), int(m.group(4) or 0),
                            tzinfo=UTC)
        except ValueError:
            continue
        out.append((when.timestamp(), m.group(5).strip()))
    return out



def pm_timeline(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    text = inc.postmortem.fields.get("timeline", "")
    start = inc.created or (c.anchor[0] if c.anchor else c.end)
    day = datetime.fromtimestamp(start.wall, UTC).date()
    entries = parse_timeline(text, day)
    if not entries:
        return missed("the post-mortem timeline has no timed entries")
    tol = float(c.cfg.postmortem.timeline_tolerance)
    checks: list[tuple[bool, str]] = []
    expected: list[tuple[str, Moment | None, tuple[str, ...]]] = [
        ("detection", inc.created or (c.first_alert.at if c.first_alert else None),
         ("trigger", "alert", "detect", "page", "report")),
        ("declaration", inc.declared, ("declar",)),
        ("mitigation", inc.mitigated or (c.mitigation.action.at if c.mitigation.action else None),
         ("mitigat", "rollback", "roll back", "flag", "restor", "ops")),
        ("resolution", inc.resolved_final, ("resolv",)),
    ]
    for name, moment, keys in expected:
        if moment is None:
            continue
        hit = [e for e in entries if abs(e[0] - moment.wall) <= tol and any(k in e[1].lower() for k in keys)]
        checks.append((bool(hit), f"{name} at {utc(moment.wall)}" + ("" if hit else " missing or off by more than "
                                                                                   f"{dur(tol)}")))
    lo = (c.facts.started.wall if c.facts.started else start.wall) - tol
    hi = c.end.wall + 2 * 86400
    outside = [e for e in entries if not lo <= e[0] <= hi]
    checks.append((not outside, "every entry within the run" if not outside else
                   f"{len(outside)} entr{'y' if len(outside) == 1 else 'ies'} outside the run's time "
                   f"(e.g. {utc(outside[0][0], True)})"))
    ordered = all(a[0] <= b[0] for a, b in zip(entries, entries[1:], strict=False))
    checks.append((ordered, "in time order" if ordered else "not in time order"))
    good = sum(ok for ok, _ in checks)
    bad = [t for ok, t in checks if not ok]
    reason = f"{len(entries)} timed entries; {good}/{len(checks)} checks against the journal pass"
    if bad:
        reason += " -- " + "; ".join(bad)
    fraction = good / len(checks)
    if "timeline" not in inc.postmortem.edited_fields:
        share = c.cfg.postmortem.prefilled_timeline_share
        fraction *= share
        reason += (f"; the timeline is the tracker's own prefill, unchanged (it checks the tracker against itself): "
                   f"at most {share:.0%} (policy postmortem.prefilled_timeline_share)")
    return Verdict(fraction, reason)



def pm_root_cause(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    if c.truth is None:
        return na("no ground truth: no root-cause keywords to compare with")
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    text = inc.postmortem.fields.get("root_cause", "")
    if not substantive(text, c.cfg.postmortem.min_words):
        return missed(f"the root cause is {why_not_substantive(text, c.cfg.postmortem.min_words)}")
    if c.truth.causal_chain:
        # the truth's causal chain, link by link, with stems and synonyms; a bare keyword list fails
        verdict = root_cause(text, c.truth.causal_chain)
        return Verdict(verdict.fraction, f"root cause: {verdict.reason}")
    found, missing_kw = keywords_found(c.truth.root_cause_keywords, text)
    share = len(found) / len(c.truth.root_cause_keywords)
    fraction = min(1.0, share / c.cfg.postmortem.keyword_full_credit)
    reason = (f"{len(found)}/{len(c.truth.root_cause_keywords)} truth keywords found"
              + (f" ({', '.join(found)})" if found else "") + (f"; missing: {', '.join(missing_kw)}" if missing_kw
                                                               else "")
              + f" (full credit at {c.cfg.postmortem.keyword_full_credit:.0%})")
    return Verdict(fraction, reason)



def pm_detection(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    section = next(s for s in sev.POSTMORTEM_SECTIONS if s.key == "detection")
    facts = c.incident_facts()
    answered, problems = 0, []
    for fld in section.fields:
        value = inc.postmortem.fields.get(fld.key, "")
        if not substantive(value, c.cfg.postmortem.min_words):
            problems.append(f"'{fld.label}' {why_not_substantive(value, c.cfg.postmortem.min_words)}")
        elif why := filler(value, facts):
            problems.append(f"'{fld.label}': {why}")
        else:
            answered += 1
    text = f"{answered}/{len(section.fields)} detection questions answered"
    if problems:
        text += "; " + "; ".join(problems)
    return Verdict(answered / len(section.fields), text)



def pm_action_items(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    items = inc.postmortem.action_items
    if not items:
        return missed("no action items")
    good, problems = 0, []
    people = c.data.tracker.people if c.data.tracker is not None else None
    roster = {p.strip().lower() for p in people} if people else set()
    opened = datetime.fromtimestamp((inc.created or c.end).wall, UTC).date()
    window = float(c.cfg.postmortem.action_item_due_within)
    latest = opened + timedelta(seconds=window)
    for n, item in enumerate(items, start=1):
        missing = []
        if not substantive(item.action, 2) or why_not_substantive(item.action, 2):
            missing.append("description")
        owner = item.owner.strip()
        if not owner or placeholder_marker(owner) or owner.lower() in ("tbd", "tba", "n/a", "none", "team", "someone"):
            missing.append("owner (a person)")
        elif roster and owner.lower() not in roster:
            missing.append(f"owner on the roster ({owner!r} is not)")
        if item.due_date is None:
            missing.append("due date")
        elif not opened <= item.due_date <= latest:
            missing.append(f"due date after the incident and within {dur(window)} (policy), not {item.due_date}")
        if item.type not in sev.ACTION_ITEM_TYPES:
            missing.append("type")
        if missing:
            problems.append(f"item {n} lacks {', '.join(missing)}")
        else:
            good += 1
    types = sorted({i.type for i in items if i.type})
    text = f"{good}/{len(items)} action items have owner, due date and type ({', '.join(types) or 'no types'})"
    if problems:
        text += "; " + "; ".join(problems[:4])
    return Verdict(good / len(items), text)



def pm_meeting(c: Context) -> Verdict:
    if (v := _need_postmortem(c)) is not None:
        return v
    inc = c.incident
    assert inc is not None and inc.postmortem is not None
    meeting = inc.postmortem.meeting_date
    if meeting is None:
        return missed("no post-mortem meeting date is set")
    if inc.resolved_final is None:
        return Verdict(0.5, f"meeting set for {meeting.isoformat()}, but the incident was never resolved")
    resolved_day = datetime.fromtimestamp(inc.resolved_final.wall, UTC).date()
    due = add_business_days(resolved_day, sev.POSTMORTEM_MEETING_BUSINESS_DAYS)
    if meeting < resolved_day:
        return missed(f"meeting date {meeting.isoformat()} is before the incident was resolved ({resolved_day})")
    if meeting <= due:
        return Verdict(1.0, f"meeting on {meeting.isoformat()}, within {sev.POSTMORTEM_MEETING_BUSINESS_DAYS} business "
                            f"days of resolution (due by {due.isoformat()}; calendar days, wall clock)")
    days = sev.POSTMORTEM_MEETING_BUSINESS_DAYS
    return missed(f"meeting on {meeting.isoformat()} is later than {days} business days after resolution "
                  f"(due by {due.isoformat()}; calendar days, wall clock)")

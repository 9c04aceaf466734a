"""The post-mortem's text, every section made of the incident's facts (``facts.Facts``).

Times are game time from the run's start (``T+2m05s``) with the wall clock beside (``14:02:05 UTC``);
durations are game time with the wall time they took. The root cause is a causal sentence (because
... so ...); lessons follow from what happened (how long detection took and which alert came first,
which actions helped); action items have an owner from the team, a due date inside the policy window
and a type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from simulator.domain.ops_action import TEMPORARY_VERBS, OpsAction
from simulator.domain.standard import ROLES, SEVERITIES
from simulator.responders.facts import Facts
from simulator.responders.sight import Moment, game_span

#: days after the incident each action item is due (inside the 14-day window the runbook's items use)
DUE_IN_DAYS = {"fix": 7, "monitoring": 10, "process": 14}
#: the alerts an overview quotes
SHOWN = 4
_TIME = re.compile(r"\*\*(?:(\d{4}-\d{2}-\d{2}) )?(\d{2}):(\d{2}):(\d{2}) UTC\*\*")

Span = Callable[[float], str]


@dataclass(frozen=True)
class Item:
    action: str
    owner: str
    due: date
    type: str


def fields(f: Facts, span: Span, prefilled_timeline: str) -> dict[str, str]:
    return {
        "overview_services": _services(f),
        "overview_duration": _duration(f, span),
        "overview_customer_impact": _impact(f),
        "timeline": timeline(f, prefilled_timeline),
        "root_cause": root_cause(f),
        "detection_how": _detection_how(f),
        "detection_delay": _detection_delay(f, span),
        "detection_earlier": _detection_lesson(f, span),
        "response_went_well": _went_well(f, span),
        "response_improve": _improve(f, span),
        "response_people": _people(f),
        "resolution_how": _resolution(f),
        "resolution_alternatives": _alternatives(f),
        "resolution_permanence": _permanence(f),
        "lessons_learned": "\n".join(f"- {line}" for line in lessons(f, span)),
    }


# ---------------------------------------------------------------- overview and timeline
def _services(f: Facts) -> str:
    parts = [f"{f.service} ({f.ref}, primary)"] + [f"{h.service} ({h.ref}, same cause)" for h in f.related]
    text = ", ".join(parts)
    if f.false_alarms:
        text += "; not affected (false alarms): " + ", ".join(f"{h.service} ({h.ref})" for h in f.false_alarms)
    return text


def _duration(f: Facts, span: Span) -> str:
    end = f.marks.get("resolve")
    if end is None:
        return f"Still open when the post-mortem was written; impact began at {f.start.stamp()}."
    text = f"{span(end.game - f.start.game)} from {_began(f)} at {f.start.stamp()} to resolution at {end.stamp()}"
    return text + f"; {f.ref} itself was open {span(end.game - f.opened.game)}."


def _impact(f: Facts) -> str:
    fix = f.effective
    until = f"{fix.action} at {fix.at.stamp()}" if fix else "the end of the run"
    said = list(dict.fromkeys(a.summary or a.name for a in f.alerts))
    seen = "; ".join(said[:SHOWN]) + (f" (and {len(said) - SHOWN} more alerts)" if len(said) > SHOWN else "")
    seen = seen or f"{f.ref} opened at {f.opened.stamp()}"
    who = f.scenario.load_target
    if not f.scenario.truth.customer_impact:
        return f"No customer impact: {who}'s users were not hurt; internal signals only ({seen})."
    text = f"Users of {who} were hurt from {f.start.stamp()} until {until}: {seen}."
    if f.probes_during:
        text += " Steady state during the incident: " + "; ".join(f.probes_during) + "."
    return text


def timeline(f: Facts, prefilled: str) -> str:
    """The tracker's timeline with the fault and every alert put in their place, in time order.

    One clock: every bullet is the wall clock (UTC), as the tracker's own lines are; game time (T+)
    is for the prose sections, where each moment carries both."""
    ours: list[tuple[datetime, str]] = []
    if f.fault is not None:
        ours.append((f.fault.at.wall, f"impact began: {f.fault.describe()}"
                                      + (f" ({f.fault.note})" if f.fault.note else "")))
    for a in f.alerts:
        ours.append((a.at.wall, f"alert {a.name} fired on {a.service}"
                                + (f": {a.summary}" if a.summary else "")))
    theirs: list[tuple[datetime | None, str]] = [(_line_time(line, f.opened.wall), line)
                                                 for line in prefilled.splitlines() if line.strip()]
    dated = any(m and m.group(1) for m in (_TIME.search(line) for _, line in theirs))
    fmt = "%Y-%m-%d %H:%M:%S UTC" if dated else "%H:%M:%S UTC"
    merged: list[tuple[datetime, int, str]] = []
    last = f.opened.wall
    for i, (at, line) in enumerate(theirs):
        last = at or last
        merged.append((last, i + len(ours), line))
    merged += [(at, i, f"- **{at.strftime(fmt)}**: {text}") for i, (at, text) in enumerate(ours)]
    return "\n".join(line for _, _, line in sorted(merged, key=lambda e: (e[0].replace(microsecond=0), e[1])))


def _line_time(line: str, day: datetime) -> datetime | None:
    m = _TIME.search(line)
    if not m:
        return None
    d = date.fromisoformat(m.group(1)) if m.group(1) else day.date()
    return datetime(d.year, d.month, d.day, int(m.group(2)), int(m.group(3)), int(m.group(4)), tzinfo=day.tzinfo)


# ---------------------------------------------------------------- root cause and detection
def root_cause(f: Facts) -> str:
    cause = f.cause.strip().rstrip(".")
    cause = cause[0].lower() + cause[1:] if len(cause) > 1 and cause[1].islower() else cause
    names = ", ".join(dict.fromkeys(a.name for a in f.alerts)) or "the incident"
    fix = f.effective
    after = f" until {fix.action} at {fix.at.stamp()} removed the change" if fix else ""
    return (f"{f.service} degraded from {f.start.stamp()} because {cause}. So {names} fired from "
            f"{f.detected.stamp()} and {f.service} stayed degraded{after}.")


def _detection_how(f: Facts) -> str:
    if not f.alerts:
        return f"No alert fired; {f.ref} was opened by hand at {f.opened.stamp()}."
    first, rest = f.alerts[0], f.alerts[1:]
    text = (f"Automated alerting: the monitor's {first.name} alert ({first.severity}) on {first.service} fired at "
            f"{first.at.stamp()} and opened {f.ref} at {f.opened.stamp()}")
    if rest:
        text += "; then " + ", ".join(f"{a.name} at T+{_t(a.at)}" for a in rest)
    return text + "."


def _detection_delay(f: Facts, span: Span) -> str:
    delay = f.detection_delay
    if delay is None or f.fault is None:
        return f"The fault's time is not known; the first signal was {_first_signal(f)} at {f.detected.stamp()}."
    return (f"{span(delay)}: {f.fault.describe()} took effect at {f.fault.at.stamp()} and the first signal, "
            f"{_first_signal(f)}, came at {f.detected.stamp()}; an alert rule waits for its window of samples over "
            f"the threshold (and its hold) before it fires.")


def _first_signal(f: Facts) -> str:
    return f"the {f.alerts[0].name} alert" if f.alerts else f"{f.ref} opened by hand"


def _detection_lesson(f: Facts, span: Span) -> str:
    warnings = [a for a in f.alerts if a.severity != "critical"]
    pages = [a for a in f.alerts if a.severity == "critical"]
    if warnings and pages and warnings[0].at.game < pages[0].at.game:
        gain = pages[0].at.game - warnings[0].at.game
        return (f"Yes: {warnings[0].name} ({warnings[0].severity}) fired at T+{_t(warnings[0].at)}, {span(gain)} "
                f"before {pages[0].name} paged at T+{_t(pages[0].at)}; paging on {warnings[0].name} would have "
                f"caught it {span(gain)} earlier.")
    if warnings and not pages:
        return (f"{warnings[0].name} caught it at T+{_t(warnings[0].at)}, before any threshold alert paged: "
                f"this trend/saturation alert is the earliest signal; keep it and route it to the on-call.")
    first = f.alerts[0].name if f.alerts else "a person"
    where = f.fault.describe() if f.fault else f.service
    return (f"Only once users were hurt: {first} was the first signal. An early-warning alert on {f.service}'s "
            f"saturation or trend would fire before the impact of {where}.")


# ---------------------------------------------------------------- response
def _went_well(f: Facts, span: Span) -> str:
    parts = []
    if (ack := f.marks.get("ack")) is not None:
        parts.append(f"{f.ref} was acknowledged {span(ack.game - f.detected.game)} after the first alert, at "
                     f"{ack.stamp()}")
    if (dec := f.marks.get("declare")) is not None:
        parts.append(f"declared {f.severity} at {dec.stamp()}")
    if f.roles and f.roles_at is not None:
        parts.append(f"{len(set(f.roles.values()))} people took the roles at {f.roles_at.stamp()}")
    if (fix := f.effective) is not None:
        parts.append(f"{fix.action} at {fix.at.stamp()} worked ({fix.summary})")
    if f.related:
        parts.append("the same failure's other incidents were linked to it: "
                     + ", ".join(f"{h.ref} on {h.service}" for h in f.related))
    if f.false_alarms:
        parts.append("false alarms were verified and closed without declaring: "
                     + ", ".join(f"{h.ref} on {h.service}" for h in f.false_alarms))
    return ("; ".join(parts) or f"{f.ref} was worked from {f.opened.stamp()}") + "."


def _improve(f: Facts, span: Span) -> str:
    parts = []
    if f.actions:
        first = f.actions[0]
        parts.append(f"the first ops action ({first.action}) came {span(first.at.game - f.detected.game)} after the "
                     f"first alert, at {first.at.stamp()}")
    if f.harmful:
        tried = ", ".join(f"{a.action} at T+{_t(a.at)}" for a in f.harmful)
        parts.append(f"{tried} did not restore service and fed the failure")
    level = SEVERITIES.get(f.severity)
    if level is not None and (ack := f.marks.get("ack")) is not None:
        parts.append(f"acknowledging took {span(ack.game - f.detected.game)} after the first alert (the standard's "
                     f"respond target for {f.severity}: {level.respond_text})")
    upd = f.marks.get("status_update")
    if upd is not None:
        parts.append(f"the first status update went out at {upd.stamp()}")
    text = "; ".join(parts) or f"nothing was done on {f.ref} beyond the tracker's record"
    return text[0].upper() + text[1:] + "."


def _people(f: Facts) -> str:
    if not f.roles:
        return f"No roles were assigned on {f.ref}."
    who = ", ".join(f"{ROLES.get(role, role)}: {person}" for role, person in f.roles.items())
    distinct = len(set(f.roles.values()))
    text = f"{'Yes' if distinct == len(f.roles) else 'Partly'}: {who} ({distinct} different people"
    if f.roles_at is not None:
        text += f", assigned at {f.roles_at.stamp()}"
        if f.actions:
            first = f.actions[0]
            text += f", {'before' if f.roles_at.game <= first.at.game else 'after'} the first ops action at " \
                    f"T+{_t(first.at)}"
    return text + ")."


# ---------------------------------------------------------------- resolution
def _resolution(f: Facts) -> str:
    fix = f.effective
    text = f"{fix.action} at {fix.at.stamp()} ({fix.summary})" if fix else f"No ops action was taken on {f.service}"
    if (m := f.marks.get("mitigate")) is not None:
        text += f"; marked mitigated at {m.stamp()}"
    if (r := f.marks.get("resolve")) is not None:
        text += f"; resolved at {r.stamp()}"
    if f.probes_after:
        text += "; the steady-state probes then read " + "; ".join(f.probes_after)
    if f.before:
        text += " (before the fault: " + "; ".join(f.before) + ")"
    return text + "."


def _alternatives(f: Facts) -> str:
    fix = f.effective
    used = {a.action for a in f.actions}
    others = [m for m in f.scenario.truth.accepted_mitigations if m not in used and (fix is None or m != fix.action)]
    parts = [f"considered {m}, kept in reserve" for m in others]
    tried = dict.fromkeys(a.action for a in f.harmful)
    parts += [f"tried {h}: it did not help, it does not remove the cause" for h in tried]
    parts += [f"ruled out {h}: it does not remove the cause" for h in f.scenario.truth.harmful_actions if h not in used]
    if not parts:
        return f"None besides {fix.action}." if fix else "None were tried."
    chosen = f"Chose {fix.action}; " if fix else ""
    return chosen + "; ".join(parts) + "."


def _permanence(f: Facts) -> str:
    fix = f.effective
    if fix is None:
        return f"Nothing was changed on {f.service}; the cause remains."
    verb = OpsAction.parse(fix.action).verb
    owner = f.team.roles.get("tech_lead", "")
    if verb == "failover":
        return (f"Temporary: {fix.action} sends traffic to the standby, round the faulty path or instance, which is "
                f"still there; repairing it and failing back is the permanent fix (action item 'fix', owner {owner}).")
    if verb in TEMPORARY_VERBS:
        return (f"Temporary: {fix.action} takes the change out of service, but the defect it shipped remains; the "
                f"permanent fix is a corrected release or config (action item 'fix', owner {owner}).")
    return f"Permanent: {fix.action} puts a corrected version in place ({fix.summary})."


def lessons(f: Facts, span: Span) -> list[str]:
    out = [f"Detection: {_detection_lesson(f, span)}"]
    fix = f.effective
    if f.harmful and fix is not None:
        out.append(f"Mitigation: {', '.join(dict.fromkeys(a.action for a in f.harmful))} did not help; {fix.action} "
                   f"at T+{_t(fix.at)} did. Go to it first.")
    elif fix is not None:
        out.append(f"Mitigation: {fix.action} restored {f.service} {span(fix.at.game - f.detected.game)} after the "
                   f"first alert; keep it one step away in the runbook.")
    if f.related:
        out.append(f"One failure opened {len(f.related) + 1} incidents ({f.ref} and "
                   + ", ".join(f"{h.ref} on {h.service}" for h in f.related)
                   + "): link the dependents to the primary early so one team works one cause.")
    for h in f.false_alarms:
        out.append(f"{h.ref} on {h.service} was a false alarm ({h.why}): verify before declaring.")
    return out


# ---------------------------------------------------------------- action items
def action_items(f: Facts, day: date, span: Span) -> list[Item]:
    roles = f.team.roles
    fix, first = f.effective, f.alerts[0].name if f.alerts else "an alert"
    where = f.fault.describe() if f.fault else f.service
    warnings = [a for a in f.alerts if a.severity != "critical"]
    watch = (f"Page the on-call on {warnings[0].name} for {f.service}: it was the earliest signal"
             if warnings else f"Add an early-warning (saturation or trend) alert for {f.service}: {first} only "
                              f"fired once users were hurt")
    if (delay := f.detection_delay) is not None:
        watch += f" (detection took {span(delay)})"
    lever = fix.action if fix else "the accepted mitigation"
    return [
        Item(f"Fix the defect behind {where} and ship a corrected release with a regression test "
             f"(cause: {f.cause.strip().rstrip('.')})", roles["tech_lead"], day + timedelta(days=DUE_IN_DAYS["fix"]),
             "fix"),
        Item(watch, roles["scribe"], day + timedelta(days=DUE_IN_DAYS["monitoring"]), "monitoring"),
        Item(f"Make {lever} a one-step runbook action for {f.service}, and add this scenario "
             f"({f.scenario.metadata.name}) to the quarterly game day", roles["incident_commander"],
             day + timedelta(days=DUE_IN_DAYS["process"]), "process"),
    ]


def _began(f: Facts) -> str:
    return "the fault" if f.fault is not None else "the first alert"


def _t(m: Moment) -> str:
    return game_span(m.game)

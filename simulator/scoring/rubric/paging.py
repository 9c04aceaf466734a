"""On call: did the paged primary acknowledge within the window, and did the page escalate to the secondary
when (and only when) it had to?

The standard's "On-Call Rotation" asks for "Primary and secondary on-call engineers", "Escalation paths for
each service" and "Response time SLAs by severity". The tracker pages the primary of the service's rotation
when an incident opens and the secondary when nobody acknowledges within the page's window (a policy
default, recorded on the page with its basis: ``simulator.domain.policy.page_ack_window``). This line reads
those ``incident.paged`` entries and the acknowledgement, on the clock the tracker measured the window on
(the run's game clock when it knew it, else wall time).

* acknowledged within the window: full credit (no escalation needed);
* late, the secondary was paged and someone acknowledged after that: half (the escalation path worked,
  the primary did not answer);
* late and never acknowledged, or late with no escalation (no secondary on call): nothing.

Nobody paged (no rotation or on-call covers the service): not applicable.
"""

from __future__ import annotations

from simulator.scoring.rubric.context import Context, need_incident
from simulator.scoring.rubric.verdict import Verdict, dur, missed, na
from simulator.scoring.rundata import IncidentView, Moment, TimelineItem, span

ESCALATED_SHARE = 0.5  # policy: the primary missed the window but the escalation path got an acknowledgement


def _ref(inc: IncidentView, item: TimelineItem) -> str:
    return f"tracker {inc.ref} #{item.seq} {item.kind}"


def _clock(primary: TimelineItem, moment: Moment | None) -> str:
    """The tracker measured the window on the game clock when it had one for the run (``game_at`` set)."""
    if primary.data.get("game_at") is not None and primary.at.game is not None and (moment is None or
                                                                                   moment.game is not None):
        return "game"
    return "wall"


def oncall_paging(c: Context) -> Verdict:
    if (v := need_incident(c, "page anyone for")) is not None:
        return v
    inc = c.incident
    assert inc is not None
    pages = [t for t in inc.timeline if t.kind == "incident.paged"]
    primary = next((t for t in pages if t.data.get("tier") == "primary"), None)
    if primary is None:
        return na(f"nobody was paged for {inc.ref}: no rotation or on-call covers {inc.service}")
    secondary = next((t for t in pages if t.data.get("tier") == "secondary"), None)
    window = float(primary.data.get("window_seconds") or 0.0)
    basis = str(primary.data.get("window_basis") or "policy")
    ack = inc.acknowledged or inc.declared
    clock = _clock(primary, ack)
    waited = span(primary.at, ack, clock)
    who = primary.data.get("person", "?")
    evidence = [_ref(inc, primary)] + ([_ref(inc, secondary)] if secondary is not None else [])
    ack_item = next((t for t in inc.timeline if t.kind in ("incident.acknowledged", "incident.declared")), None)
    if ack_item is not None:
        evidence.append(_ref(inc, ack_item))
    by = f" by {ack_item.actor}" if ack_item is not None and ack_item.actor else ""
    common = dict(measured=waited, target=window, evidence=evidence, source="policy",
                  basis=f"{basis}; {clock} clock")
    if waited is not None and waited <= window:
        extra = (f"; yet {secondary.data.get('person')} was paged as well, which was not needed" if secondary
                 else "; no escalation needed")
        return Verdict(1.0, f"{who} (primary) was paged and {inc.ref} acknowledged{by} after {dur(waited)} "
                            f"{clock} time, within the {dur(window)} window{extra}", **common)
    late = (f"{who} (primary) was paged and nobody acknowledged within the {dur(window)} window "
            f"({'acknowledged' + by + ' after ' + dur(waited) if waited is not None else 'never acknowledged'})")
    if secondary is None:
        return missed(f"{late}; the escalation was needed but nobody else was paged (no secondary on call)",
                      **common)
    escalated_after = span(primary.at, secondary.at, clock)
    if ack is None or waited is None:
        return missed(f"{late}; escalated to {secondary.data.get('person')} (secondary) after "
                      f"{dur(escalated_after)}, who did not acknowledge either", **common)
    return Verdict(ESCALATED_SHARE, f"{late}; escalated to {secondary.data.get('person')} (secondary) after "
                                    f"{dur(escalated_after)}, as needed", **common)

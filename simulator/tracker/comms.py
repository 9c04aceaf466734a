"""Customer communication as a deliberate act, not a keyword.

Two ways a team tells customers: a status update flagged ``external`` (its ``audience``; the default is
``internal``, the team's channel), or a customer message recorded on its own (status page, email, support),
kept as the timeline event ``incident.customer_message`` and mirrored to the run journal like every
``incident.*`` event. ``TrackerService`` calls these; the scorer reads them through ``TrackerPort.export``.
"""

from __future__ import annotations

from collections.abc import Iterable

from simulator.domain.comms import AUDIENCES, CHANNEL_LABELS, CUSTOMER_CHANNELS
from simulator.errors import InputError
from simulator.tracker.models import Incident
from simulator.tracker.schemas import CustomerMessageOut, TimelineEventOut
from simulator.tracker.writes import Tx

KIND = "incident.customer_message"
TEXT_MAX = 5000
TO_MAX = 300


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise InputError(f"audience must be {' or '.join(AUDIENCES)}, not {audience!r}")
    return audience


def record(tx: Tx, inc: Incident, *, channel: str, text: str, to: str | None, actor: str) -> CustomerMessageOut:
    """Put a customer message on ``inc``'s timeline."""
    if channel not in CUSTOMER_CHANNELS:
        raise InputError(f"channel must be one of {', '.join(CUSTOMER_CHANNELS)}, not {channel!r}")
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise InputError("a customer message needs its text")
    if len(text) > TEXT_MAX:
        raise InputError(f"the message is {len(text)} characters; at most {TEXT_MAX}")
    to = (to or "").strip() or None
    if to is not None and len(to) > TO_MAX:
        raise InputError(f"'to' is {len(to)} characters; at most {TO_MAX}")
    where = CHANNEL_LABELS[channel] + (f" to {to}" if to else "")
    row = tx.record(inc, KIND, f"Customer message ({where}) by {actor}: {text}", actor, channel=channel, text=text,
                    to=to)
    tx.session.flush()
    return CustomerMessageOut(seq=row.id, incident=inc.ref, at=row.at, actor=actor, channel=channel, text=text, to=to)


def from_timeline(events: Iterable[TimelineEventOut]) -> list[CustomerMessageOut]:
    """The customer messages among an incident's timeline events, oldest first."""
    return [CustomerMessageOut(seq=e.seq, incident=e.incident, at=e.at, actor=e.actor,
                               channel=str(e.data.get("channel", "")), text=str(e.data.get("text", "")),
                               to=e.data.get("to")) for e in events if e.kind == KIND]

"""The tracker's tables (SQLAlchemy 2.0 declarative). Only ``service`` writes them.

Times are stored as naive UTC and read back as aware UTC (``UTCDateTime``), so SQLite and
PostgreSQL behave the same. The schema is created and upgraded by the Alembic scripts in
``migrations/``; keep the two in step (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Counter(Base):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    handle: Mapped[str | None] = mapped_column(String(120))
    team: Mapped[str | None] = mapped_column(String(120))
    oncall: Mapped[str | None] = mapped_column(String(20))  # primary | secondary | None
    created_at: Mapped[datetime]


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    service: Mapped[str] = mapped_column(String(120), index=True)
    severity: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    run_id: Mapped[str | None] = mapped_column(String(120), index=True)
    run_url: Mapped[str | None] = mapped_column(String(500))
    scenario: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    declared_at: Mapped[datetime | None]
    mitigated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    alerts: Mapped[list[Alert]] = relationship(back_populates="incident", lazy="raise")
    timeline: Mapped[list[TimelineEvent]] = relationship(order_by="TimelineEvent.id", lazy="raise")
    roles: Mapped[list[RoleAssignment]] = relationship(order_by="RoleAssignment.id", lazy="raise")
    checklist: Mapped[list[ChecklistItem]] = relationship(order_by="ChecklistItem.position", lazy="raise")
    status_updates: Mapped[list[StatusUpdate]] = relationship(order_by="StatusUpdate.id", lazy="raise")
    severity_changes: Mapped[list[SeverityChange]] = relationship(order_by="SeverityChange.id", lazy="raise")

    __table_args__ = (Index("ix_incidents_open_group", "service", "run_id", "status"),)


class SeverityChange(Base):
    __tablename__ = "severity_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    from_severity: Mapped[str | None] = mapped_column(String(2))
    to_severity: Mapped[str] = mapped_column(String(2))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    person: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class StatusUpdate(Base):
    __tablename__ = "status_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(120))
    headline: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    what_we_know: Mapped[str] = mapped_column(Text)
    what_we_are_doing: Mapped[str] = mapped_column(Text)
    next_update_by: Mapped[datetime]
    # internal (the team, the incident channel) or external (a status page / customer message)
    audience: Mapped[str] = mapped_column(String(10), default="internal", server_default="internal")


class ChecklistItem(Base):
    __tablename__ = "checklist_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    checked: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_by: Mapped[str | None] = mapped_column(String(120))
    checked_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("incident_id", "key", name="uq_checklist_incident_key"),)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    fingerprint: Mapped[str] = mapped_column(String(255))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    service: Mapped[str] = mapped_column(String(120))
    severity: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    generator_url: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(120))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    occurrences: Mapped[int] = mapped_column(Integer, default=1)

    incident: Mapped[Incident | None] = relationship(back_populates="alerts", lazy="raise")

    __table_args__ = (UniqueConstraint("source", "fingerprint", name="uq_alerts_source_fingerprint"),)


class Postmortem(Base):
    __tablename__ = "postmortems"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    overview_date_time: Mapped[str] = mapped_column(Text, default="")
    overview_duration: Mapped[str] = mapped_column(Text, default="")
    overview_severity: Mapped[str] = mapped_column(Text, default="")
    overview_services: Mapped[str] = mapped_column(Text, default="")
    overview_customer_impact: Mapped[str] = mapped_column(Text, default="")
    timeline: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    detection_how: Mapped[str] = mapped_column(Text, default="")
    detection_delay: Mapped[str] = mapped_column(Text, default="")
    detection_earlier: Mapped[str] = mapped_column(Text, default="")
    response_went_well: Mapped[str] = mapped_column(Text, default="")
    response_improve: Mapped[str] = mapped_column(Text, default="")
    response_people: Mapped[str] = mapped_column(Text, default="")
    resolution_how: Mapped[str] = mapped_column(Text, default="")
    resolution_alternatives: Mapped[str] = mapped_column(Text, default="")
    resolution_permanence: Mapped[str] = mapped_column(Text, default="")
    lessons_learned: Mapped[str] = mapped_column(Text, default="")
    meeting_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


class ActionItem(Base):
    __tablename__ = "action_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120), default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    type: Mapped[str] = mapped_column(String(20), default="fix")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(120))
    completed_at: Mapped[datetime | None]


class Review(Base):
    """An evaluator's review of one judgement item of a run's score card (``reviews.py``); the latest
    per (run, incident, item) counts, earlier ones stay as the audit trail."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(120), index=True)
    incident_ref: Mapped[str | None] = mapped_column(String(20))
    item_id: Mapped[str] = mapped_column(String(80))
    decision: Mapped[str] = mapped_column(String(10))  # confirm | override
    fraction: Mapped[float | None]
    note: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]


class Rotation(Base):
    """A service's on-call rotation (``paging.py``): people in order, handed over every ``every_seconds``
    from ``starts_at``; the primary is the one whose turn it is, the secondary the next. Service ``*``: every
    service without a rotation of its own."""

    __tablename__ = "rotations"
    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(120), unique=True)
    team: Mapped[str | None] = mapped_column(String(120))
    people: Mapped[list[Any]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime]
    every_seconds: Mapped[int] = mapped_column(Integer)
    # severity -> seconds the primary has to acknowledge; empty: the policy default (``policy.page_ack_window``)
    ack_within: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class Page(Base):
    """One page: who was paged for an incident, when, why, on which channels; ``escalated_at`` on a primary's
    page is when the secondary was paged because nobody acknowledged within ``window_seconds``."""

    __tablename__ = "pages"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    person: Mapped[str] = mapped_column(String(120))
    tier: Mapped[str] = mapped_column(String(20))  # primary | secondary
    reason: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(60))
    rotation: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[datetime]
    game_at: Mapped[float | None]
    window_seconds: Mapped[float]
    window_basis: Mapped[str] = mapped_column(Text)
    escalated_at: Mapped[datetime | None]
    deliveries: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Setting(Base):
    """Tracker settings by name (``paging``: the outgoing webhooks for real pagers)."""

    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

"""Alembic environment: always given a live connection by ``migrations.upgrade``."""

from __future__ import annotations

from alembic import context

from simulator.tracker.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run alembic's CLI against a URL
    raise RuntimeError("run tracker migrations through simulator.tracker.migrations.upgrade()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

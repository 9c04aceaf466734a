"""Drills: the four ways the product is used, each a ``kind: Drill`` file in ``drills/``.

Public surface:

* ``load_drill(path)`` / ``resolve_drill(name)``: the drill format (``simulator.drills.model``) with
  file:line:col errors; ``json_schema()`` for editors;
* ``run_ci(...)`` (``simulator.drills.ci``): CI resilience checks, JUnit XML (``simulator.drills.junit``);
* ``run_tabletop(...)`` (``simulator.drills.tabletop``): a Master Scenario Events List through the tracker;
* ``run_game_day(...)`` (``simulator.drills.gameday``) with the facilitator console (``simulator.drills.console``);
* ``run_full_scale(...)`` (``simulator.drills.fullscale``): several scenarios at once;
* ``simulator.drills.pytest_plugin``: ``pytest --gameday scenarios/``.
"""

from __future__ import annotations

from simulator.drills.loader import json_schema, load_drill, load_drill_text, resolve_drill

__all__ = ["json_schema", "load_drill", "load_drill_text", "resolve_drill"]

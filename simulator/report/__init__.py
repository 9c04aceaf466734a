"""What people see: the live run dashboard (``live``), score cards and reports.

Public surface:

* ``write_reports(run_dir, html=True, md=True, json=True) -> list[Path]``: score a run and write
  ``report.html`` (self-contained, inline SVG charts), ``report.md`` (post-mortem in the
  standard's template + score card), ``report.json`` and ``scorecard.json`` into its folder;
* ``Report.build(run_dir)``: the same, in memory (``.html()``, ``.markdown()``, ``.json()``);
* ``render_scorecard(card)``: the score card for a rich console;
* ``history``: scores per team over time from a folder of runs and/or a tracker database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Report", "render_scorecard", "write_reports"]

_LAZY = {
    "Report": "simulator.report.write",
    "write_reports": "simulator.report.write",
    "render_scorecard": "simulator.report.console",
}

if TYPE_CHECKING:  # pragma: no cover
    from simulator.report.console import render_scorecard
    from simulator.report.write import Report, write_reports


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)

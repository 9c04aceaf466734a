"""The order a run's targets start in: each after the targets it depends on (``depends_on``)."""

from __future__ import annotations

from typing import Any

from simulator.errors import GamedayError


def topo_order(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name = {s["name"]: s for s in specs}
    order: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(name: str, stack: tuple[str, ...] = ()) -> None:
        if name in seen:
            return
        if name in stack:
            raise GamedayError(f"dependency cycle: {' -> '.join(stack + (name,))}")
        for dep in by_name[name].get("depends_on", []):
            visit(dep, stack + (name,))
        seen.add(name)
        order.append(by_name[name])

    for s in specs:
        visit(s["name"])
    return order

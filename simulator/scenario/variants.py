"""Scenario variants: one document, several worlds (``before`` the lessons were learned, ``after``).

A scenario may declare named variants, each an *overlay* on the document::

    default_variant: after
    variants:
      before:
        description: "as it happened: no pool alerts, immediate retries"
        overlay:                          # deep-merged into the document
          load: {clients: {retry: {policy: immediate, max_attempts: 4}}}
          monitoring: {disable: [pool]}
          targets[payments]: {config: {auto_fallback: false}}   # a list item by its name (or id, or index)
        remove: ["alerts[PaymentsPoolWaiters]"]                 # drop what the document has
      after: {description: "with the improvements"}

Merge rules: a mapping merges key by key, any other value (a list too) replaces what is there;
``name[sel]`` addresses the item of list ``name`` whose ``name`` (or ``id``) is ``sel``, or its index.
``remove`` takes paths in the same form (``timing.stop_conditions``, ``alerts[PaymentsPoolWaiters]``);
``remove`` applies before ``overlay``. An overlay may not change ``truth``, ``metadata.name`` or the
variants themselves: scoring reads one truth per scenario, whichever variant ran.

Positions: every value an overlay brings keeps the overlay's own ``file:line:col``, so a bad value
in ``variants.before.overlay`` is reported where it is written. :func:`apply` returns the merged data
(with ``variant`` set to the chosen name) and the positions to validate it with.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from simulator.errors import Problem, ValidationFailed
from simulator.scenario.yamlpos import Path, Positions, dotted

#: the variant a scenario without ``default_variant`` runs (see the README: "Variants")
FALLBACK_DEFAULT = "after"
_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_\-]*)(?:\[([^\[\]]+)\])?$")
FROZEN = (("truth",), ("metadata", "name"), ("variants",), ("default_variant",), ("variant",))


class _Located(Exception):
    def __init__(self, path: Path, message: str, at_key: bool = False):
        super().__init__(message)
        self.path, self.message, self.at_key = path, message, at_key


def names(data: Any) -> list[str]:
    """The variant names a raw document declares (in file order)."""
    variants = data.get("variants") if isinstance(data, dict) else None
    return list(variants) if isinstance(variants, dict) else []


def default_of(data: Any) -> str | None:
    """The variant a run gets without ``--variant``: ``default_variant``, else ``after`` if declared,
    else the first declared; ``None`` when the document declares none."""
    declared = names(data)
    if not declared:
        return None
    chosen = data.get("default_variant")
    if isinstance(chosen, str) and chosen in declared:
        return chosen
    return FALLBACK_DEFAULT if FALLBACK_DEFAULT in declared else declared[0]


def _split(text: str) -> list[tuple[str, str | None]]:
    """``"targets[payments].config"`` -> ``[("targets", "payments"), ("config", None)]``."""
    parts = []
    for piece in text.split("."):
        m = _PART.match(piece)
        if m is None:
            raise ValueError(f"expected a path like 'alerts[Name]' or 'load.clients', got {text!r}")
        parts.append((m.group(1), m.group(2)))
    return parts


def _index(items: list[Any], selector: str) -> int | None:
    for i, item in enumerate(items):
        if isinstance(item, dict) and selector in (item.get("name"), item.get("id")):
            return i
    if selector.lstrip("-").isdigit():
        i = int(selector)
        return i if 0 <= i < len(items) else None
    return None


def _resolve(doc: dict[str, Any], key: str, where: Path) -> tuple[Any, Path]:
    """The container and document path a (possibly ``name[sel]``) overlay key addresses."""
    try:
        parts = _split(key)
    except ValueError as exc:
        raise _Located(where, str(exc), at_key=True) from None
    if len(parts) != 1:
        raise _Located(where, f"expected one key per level (nest mappings instead of dots), got {key!r}",
                       at_key=True)
    [(name, selector)] = parts
    if selector is None:
        return doc, (name,)
    items = doc.get(name)
    if not isinstance(items, list):
        raise _Located(where, f"'{name}[{selector}]' needs a list '{name}' in the document", at_key=True)
    index = _index(items, selector)
    if index is None:
        known = ", ".join(str(i.get("name") or i.get("id")) for i in items if isinstance(i, dict)
                          and (i.get("name") or i.get("id"))) or "none with a name or id"
        raise _Located(where, f"no item {selector!r} in '{name}'; items: {known}", at_key=True)
    return items, (name, index)


class _Merge:
    def __init__(self, positions: Positions, source: Path):
        self.positions = positions
        self.out = Positions(dict(positions.values), dict(positions.keys))
        self.source = source  # where the overlay sits in the file

    def _move(self, src: Path, dst: Path) -> None:
        """The positions under ``dst`` are now those of the overlay's ``src``."""
        for table, new in ((self.positions.values, self.out.values), (self.positions.keys, self.out.keys)):
            for stale in [p for p in new if p[:len(dst)] == dst]:
                del new[stale]
            for path, pos in table.items():
                if path[:len(src)] == src:
                    new[dst + path[len(src):]] = pos

    def mapping(self, doc: dict[str, Any], overlay: dict[str, Any], src: Path, dst: Path) -> None:
        for key, value in overlay.items():
            here = src + (key,)
            container, rel = _resolve(doc, key, here)
            target_path = dst + rel
            if any(target_path[:len(f)] == f for f in FROZEN):
                raise _Located(here, f"a variant may not change '{dotted(target_path)}' (scoring reads one truth "
                                     "and name per scenario)", at_key=True)
            parent = container if isinstance(container, dict) else None
            slot = rel[-1]
            current = parent.get(slot) if parent is not None else container[slot]
            if isinstance(value, dict) and isinstance(current, dict):
                self.mapping(current, value, here, target_path)
                continue
            if parent is not None:
                parent[slot] = copy.deepcopy(value)
            else:
                container[slot] = copy.deepcopy(value)
            self._move(here, target_path)
            pos = self.positions.keys.get(here)
            if pos and len(rel) == 1:
                self.out.keys[target_path] = pos


def _remove(doc: dict[str, Any], text: str, out: Positions, where: Path) -> None:
    try:
        parts = _split(text)
    except ValueError as exc:
        raise _Located(where, str(exc)) from None
    node: Any = doc
    path: Path = ()
    for n, (name, selector) in enumerate(parts):
        last = n == len(parts) - 1
        if not isinstance(node, dict) or name not in node:
            raise _Located(where, f"nothing to remove at {text!r}: no '{dotted(path + (name,))}' in the document")
        if any((path + (name,))[:len(f)] == f for f in FROZEN):
            raise _Located(where, f"a variant may not remove '{dotted(path + (name,))}'")
        if selector is None:
            if last:
                del node[name]
                _forget(out, path + (name,))
                return
            node, path = node[name], path + (name,)
            continue
        items = node[name]
        index = _index(items, selector) if isinstance(items, list) else None
        if index is None:
            raise _Located(where, f"nothing to remove at {text!r}: no item {selector!r} in "
                                  f"'{dotted(path + (name,))}'")
        if last:
            del items[index]
            _forget(out, path + (name,), shift_from=index)
            return
        node, path = items[index], path + (name, index)


def _forget(out: Positions, path: Path, shift_from: int | None = None) -> None:
    """Drop the positions under ``path`` (or, for a removed list item, shift the later ones down)."""
    for table in (out.values, out.keys):
        moved: dict[Path, tuple[int, int]] = {}
        for p in list(table):
            if shift_from is None:
                if p[:len(path)] == path:
                    del table[p]
                continue
            if len(p) > len(path) and p[:len(path)] == path and isinstance(p[len(path)], int):
                i = p[len(path)]
                pos = table.pop(p)
                if i > shift_from:
                    moved[path + (i - 1,) + p[len(path) + 1:]] = pos
        table.update(moved)


def apply(data: dict[str, Any], positions: Positions, filename: str,
          variant: str | None) -> tuple[dict[str, Any], Positions]:
    """The document as ``variant`` (or the default one) sees it; raise ``ValidationFailed`` with the
    overlay's own location for a problem inside an overlay."""

    def fail(path: Path, message: str, at_key: bool = False) -> ValidationFailed:
        pos = positions.of_key(path) if at_key else positions.of_value(path)
        line, col = pos if pos else (None, None)
        return ValidationFailed([Problem(filename, line, col, dotted(path), message)])

    if "variant" in data:
        raise fail(("variant",), "the variant is chosen at run time (--variant NAME); declare variants under "
                                 "'variants:'", at_key=True)
    declared = names(data)
    chosen = variant if variant is not None else default_of(data)
    if chosen is None:
        return data, positions
    if chosen not in declared:
        if variant is not None:
            known = ", ".join(declared) if declared else "none (it declares no variants)"
            raise ValidationFailed([Problem(filename, None, None, "--variant",
                                            f"unknown variant {chosen!r}; known: {known}")])
        return data, positions  # a bad default_variant: the model check reports it, located
    spec = data["variants"][chosen]
    if not isinstance(spec, dict):
        return data, positions  # not a mapping: the model reports it, located
    merged = copy.deepcopy(data)
    source: Path = ("variants", chosen)
    merge = _Merge(positions, source + ("overlay",))
    try:
        removals = spec.get("remove") or []
        if isinstance(removals, list):
            for i, item in enumerate(removals):
                if isinstance(item, str):
                    _remove(merged, item, merge.out, source + ("remove", i))
        # positions of the document after the removals are the base the overlay merges onto
        merge.positions = Positions(dict(merge.out.values), dict(merge.out.keys))
        for path, pos in positions.values.items():
            if path[:len(source)] == source:
                merge.positions.values[path] = pos
        for path, pos in positions.keys.items():
            if path[:len(source)] == source:
                merge.positions.keys[path] = pos
        overlay = spec.get("overlay")
        if isinstance(overlay, dict):
            merge.mapping(merged, overlay, source + ("overlay",), ())
    except _Located as exc:
        raise fail(exc.path, exc.message, exc.at_key) from None
    merged["variant"] = chosen
    return merged, merge.out

"""The domain is the ground floor: it imports no other package of ours (``simulator.errors`` aside)."""

from __future__ import annotations

import ast
from pathlib import Path

import simulator.domain

DOMAIN = Path(simulator.domain.__file__).parent
ALLOWED = ("simulator.domain", "simulator.errors")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_domain_imports_nothing_above_the_floor():
    modules = sorted(DOMAIN.glob("*.py"))
    assert len(modules) >= 6
    above = {f"{p.name}: {name}" for p in modules for name in _imports(p)
             if name.split(".")[0] == "simulator" and not name.startswith(ALLOWED)}
    assert above == set()


def test_the_standard_describes_every_severity_and_roles_for_the_major_ones():
    from simulator.domain import standard
    from simulator.domain.severity import MAJOR_SEVERITIES, SEVERITY_CODES

    assert tuple(standard.SEVERITIES) == SEVERITY_CODES
    assert standard.ROLES_REQUIRED_FOR == MAJOR_SEVERITIES == ("P1", "P2")


def test_responder_policies_are_the_domains_names():
    from simulator.domain.responders import POLICY_NAMES
    from simulator.responders import POLICIES

    assert tuple(POLICIES) == POLICY_NAMES

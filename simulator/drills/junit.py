"""JUnit XML for CI systems: one test suite per scenario, one test case per check."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def junit_xml(suites: list[dict[str, Any]], name: str = "gameday-ci") -> str:
    """``suites``: ``[{"name", "time", "run_dir", "error": str|None, "results": [CheckResult...]}]``."""
    root = ET.Element("testsuites", name=name)
    total = failures = errors = 0
    total_time = 0.0
    for s in suites:
        results = s.get("results") or []
        fails = sum(1 for r in results if not r.ok)
        err = 1 if s.get("error") else 0
        suite = ET.SubElement(root, "testsuite", name=f"gameday.{s['name']}", tests=str(len(results) + err),
                              failures=str(fails), errors=str(err), skipped="0", time=f"{s.get('time', 0.0):.3f}",
                              timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), hostname=socket.gethostname())
        props = ET.SubElement(suite, "properties")
        for key in ("run_dir", "outcome", "responder", "time_scale"):
            if s.get(key) is not None:
                ET.SubElement(props, "property", name=key, value=str(s[key]))
        if err:
            case = ET.SubElement(suite, "testcase", classname=f"gameday.{s['name']}", name="run", time="0")
            e = ET.SubElement(case, "error", message=str(s["error"])[:500], type="RunError")
            e.text = str(s["error"])
        per = (s.get("time", 0.0) / len(results)) if results else 0.0
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=f"gameday.{s['name']}", name=r.name, time=f"{per:.3f}")
            if not r.ok:
                f = ET.SubElement(case, "failure", message=r.detail[:500], type=r.check)
                f.text = f"{r.detail}\nrun: {r.run_dir}"
            else:
                out = ET.SubElement(case, "system-out")
                out.text = r.detail
        total += len(results) + err
        failures += fails
        errors += err
        total_time += float(s.get("time", 0.0))
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: str | Path, suites: list[dict[str, Any]]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(junit_xml(suites), encoding="utf-8")
    return p

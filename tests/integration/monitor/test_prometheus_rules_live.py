"""A real Prometheus loads every exported rule file and evaluates every rule without an error.

``promtool check rules`` parses the rules; ``promtool test rules`` (tests/unit/monitor/test_prometheus_twin.py)
proves the verdicts of the tested rules. This runs them all in Debian's Prometheus server, against series for
every selector they name (served on loopback by a plain HTTP server), and reads each rule's health from
``/api/v1/rules``: an evaluation error (a vector matching that needs unique series, a bad subquery) is
``err`` there, where promtool's unit tests would only see a silent rule. A canary rule that must fail proves
the check can see one.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from simulator.monitor.prometheus import INSTALL, render
from simulator.monitor.prometheus.signals import CODES, LATENCY_BUCKETS
from simulator.netbind import free_port
from simulator.scenario import load_every_variant
from simulator.scenario.yamlpos import peek_yaml
from tests.helpers.needs import need

ROOT = Path(__file__).resolve().parents[3]
PROMETHEUS = shutil.which("prometheus")
_SELECTOR = re.compile(r'([A-Za-z_:][A-Za-z0-9_:]*)\{([^{}]*)\}')
_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
CANARY = """groups:
- name: canary
  rules:
  - alert: Canary
    expr: vector(1) * on () group_left canary_duplicate
"""


def series_for(expr: str) -> set[str]:
    """One series (exposition line, without the value) that each selector of ``expr`` matches."""
    out = set()
    for name, inner in _SELECTOR.findall(expr):
        if name in ("up", "scrape_duration_seconds"):
            continue  # Prometheus writes them itself, for each scrape
        labels: dict[str, str] = {}
        for label, op, value in _MATCHER.findall(inner):
            if op == "=":
                labels[label] = value
            elif op == "=~":
                labels[label] = value.split("|")[0]
            elif op == "!~" and label == "code":
                labels[label] = next(c for c in CODES if not re.fullmatch(value, c))
        if name.endswith("_bucket"):
            for le in (*LATENCY_BUCKETS, "+Inf"):
                out.add(_line(name, {**labels, "le": str(le)}))
        elif name == "gameday_load_requests_total":
            for code in CODES:
                out.add(_line(name, {**labels, "code": code}))
        else:
            out.add(_line(name, labels))
    return out


def _line(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _when(stamp: str) -> datetime:
    """Prometheus' RFC 3339 time with nanoseconds, to the microsecond."""
    head, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}+00:00")


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - 127.0.0.1 only
        return json.loads(answer.read())


@pytest.mark.slow
def test_prometheus_evaluates_every_exported_rule(tmp_path: Path, metrics_server) -> None:
    if PROMETHEUS is None:
        need("Prometheus", "GAMEDAY_REQUIRE_PROMETHEUS", f"prometheus is not installed: {INSTALL}")
    files = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("examples/*/*.yaml")])
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    series: set[str] = set()
    services: set[str] = set()
    names = 0
    for path in files:
        if (peek_yaml(path) or {}).get("kind") != "Scenario":
            continue
        for scenario in load_every_variant(path):
            text = render(scenario)
            (rules_dir / f"{path.stem}-{scenario.variant or 'only'}.yml").write_text(text)
            for rule in yaml.safe_load(text)["groups"][0]["rules"]:
                series |= series_for(rule["expr"])
                services.add(rule["labels"]["service"])
                names += 1
    (rules_dir / "canary.yml").write_text(CANARY)
    series |= {'canary_duplicate{k="1"}', 'canary_duplicate{k="2"}'}
    metrics_server.body = "".join(f"{line} {i % 7 + 1}\n" for i, line in enumerate(sorted(series))).encode()
    target = metrics_server.url.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules_dir / "*.yml")],
        "scrape_configs": [{"job_name": f"svc-{service}", "honor_labels": True,
                            "static_configs": [{"targets": [target], "labels": {"service": service}}]}
                           for service in sorted(services)],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 90
        scraped: datetime | None = None  # when every job's series were in
        health: dict[str, tuple[str, str]] = {}
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
            try:
                if scraped is None:
                    found = _get(f"{base}/query?query=count(canary_duplicate)")["data"]["result"]
                    if found and int(found[0]["value"][1]) == 2 * len(services):
                        scraped = datetime.now(UTC)
                    continue
                groups = _get(f"{base}/rules")["data"]["groups"]
            except OSError:
                continue
            finally:
                time.sleep(0.5)
            rules = [(g["file"], r) for g in groups for r in g["rules"]]
            if len(rules) > names and all(_when(r["lastEvaluation"]) > scraped for _, r in rules):
                health = {f"{file}:{r['name']}:{r.get('labels', {}).get('service', '')}":
                          (r["health"], r.get("lastError", "")) for file, r in rules}
                break
        assert health, "Prometheus did not evaluate every rule after the series were scraped within 90 s"
        canary = {k: v for k, v in health.items() if ":Canary:" in k}
        assert [state for state, _ in canary.values()] == ["err"], canary  # the check sees an error
        bad = {k: v for k, v in health.items() if v[0] != "ok" and ":Canary:" not in k}
        assert not bad, bad
        assert len(health) == names + 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()

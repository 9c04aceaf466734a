"""Your own service's fields (``command``, ``releases``, ``levers``, ``load.locustfile``): every mistake is one
located line, and the pure pieces (placeholders, lever templates, the ops catalog) do what they say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from simulator.errors import ValidationFailed
from simulator.scenario import load_scenario
from simulator.scenario.model import Target
from simulator.scenario.service import render
from simulator.targets.command import app_info, fill, variant
from tests.helpers.own_service import EXAMPLE, ROOT, assert_located
from tests.helpers.scenario_edits import copy_example, line_of, problems


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the example folder (the scenario with its service and locustfile beside it)."""
    return copy_example(EXAMPLE, tmp_path / "shop") / "shop.yaml"


def test_the_example_loads_with_its_files_made_absolute(example: Path) -> None:
    s = load_scenario(example)
    shop = s.target("shop")
    assert shop.kind == "command" and shop.app is None
    assert shop.command is not None and Path(shop.command.cwd or "") == example.parent
    assert s.load.locustfile == str(example.parent / "locustfile.py")
    assert s.load.user_classes == ["Shopper"]
    assert shop.release_names == ["v1.0.0", "v1.1.0", "v1.1.1"]


@pytest.mark.parametrize(("old", "new", "where", "expected"), [
    ('"--port", "{port}"', '"--port", "{prot}"', "argv:", "targets[0].command.argv: expected a placeholder"),
    ("  - name: shop\n", "  - name: shop\n    app: payments\n", "- name: shop",
     "targets[0]: expected exactly one of 'app'"),
    ('"--port", "{port}", ', "", "argv:", "expected {port} in argv or env, or port_env"),
    ("health: /health ", "health: health ", "health:", "targets[0].command.health: expected the health check as"),
    ("metrics: /metrics ", "metrics: metrics ", "metrics:", "targets[0].command.metrics: expected the metrics path"),
    ("      v1.1.0: {env", "      v1.1.0 bad: {env", "releases:", "targets[0].releases: expected release names"),
    ('body: \'{"enabled": {value}}\'', 'body: \'{"enabled": {value}\'', "recommendations_off:",
     "levers.flags.recommendations_off.body: expected a JSON body once {name} and {value} are filled in"),
    ('path: "/admin/flags/{name}"', 'path: "/admin/flags/{flag}"', "recommendations_off:",
     "levers.flags.recommendations_off.path: expected a placeholder among {name}, {value}"),
    ("default: 5,", "", "latency_ms:", "levers.config.latency_ms.default: missing required key"),
    ("method: PUT", "method: FETCH", "latency_ms:", "levers.config.latency_ms.method: expected one of"),
    ("params: {version: v1.1.0}", "params: {version: v9}", "params:",
     "faults[0].params.version: expected a release of shop (v1.0.0, v1.1.0, v1.1.1), got 'v9'"),
    ("locustfile: locustfile.py", "locustfile: nope.py", "locustfile:",
     "load.locustfile: expected a Python locustfile"),
    ("user_classes: [Shopper]", "user_classes: [Shoper]", "user_classes:",
     "load.user_classes[0]: expected a class locustfile.py defines (Shopper, StockChecker), got 'Shoper' "
     "(did you mean 'Shopper'?)"),
    ("      env: {SHOP_VERSION: v1.0.0}\n", "      env: {SHOP_VERSION: v1.0.0}\n      cwd: nowhere\n", "cwd:",
     "targets[0].command.cwd: expected a folder"),
    ("    memory_limit: 256MiB\n", "    memory_limit: 256MiB\n    config: {pool_size: 3}\n", "- name: shop",
     "targets[0]: expected no 'config' on a command target"),
    ("    memory_limit: 256MiB\n", "    memory_limit: 256MiB\n    flags: {nope: true}\n", "- name: shop",
     "targets[0]: expected flags declared under levers.flags (recommendations_off), got 'nope'"),
    ("fixes: v1.1.0", "fixes: v1.2.0", "releases:",
     "targets[0].releases: expected 'fixes' naming a release of this target (v1.0.0, v1.1.0, v1.1.1), got 'v1.2.0'"),
])
def test_each_mistake_is_one_located_line(example: Path, old: str, new: str, where: str, expected: str) -> None:
    assert_located(example, problems(example, old, new), expected, where)


def test_a_command_load_target_needs_its_own_locustfile(example: Path) -> None:
    found = problems(example, "  locustfile: locustfile.py ", "  # ")
    assert any("load: expected 'locustfile' (your own, for your service 'shop')" in p for p in found), found


def test_a_bundled_app_cannot_take_releases(example: Path) -> None:
    text = example.read_text() + "\n"
    example.write_text(text.replace("targets:\n", "targets:\n  - name: pay\n    app: payments\n"
                                    "    releases: {v1: {}}\n", 1))
    with pytest.raises(ValidationFailed) as info:
        load_scenario(example)
    assert any("targets[0]: expected 'releases' only on a command, image or build target" in str(p)
               for p in info.value.problems)


def test_url_placeholder_needs_a_declared_dependency(example: Path) -> None:
    found = problems(example, '"--host", "{host}"]', '"--host", "{host}", "--upstream", "{url:payments}"]')
    assert any("{url:payments} names a target that is not in depends_on (none)" in p for p in found), found


def test_gameday_validate_exits_2_with_the_location(example: Path) -> None:
    example.write_text(example.read_text().replace("health: /health ", "health: health "))
    r = subprocess.run([sys.executable, "-m", "simulator", "validate", str(example)], capture_output=True,
                       text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2, r.stdout + r.stderr
    line = line_of(example, "health: health")
    assert f"{example}:{line}:" in r.stdout + r.stderr
    assert "Traceback" not in r.stderr


def test_lever_templates() -> None:
    assert render('{"enabled": {value}}', "x", True, as_json=True) == '{"enabled": true}'
    assert render('{"name": "{name}", "value": {value}}', "mode", "fast", as_json=True) == \
        '{"name": "mode", "value": "fast"}'
    assert render("/admin/flags/{name}/{value}", "f", False, as_json=False) == "/admin/flags/f/false"
    assert json.loads(render('{"{name}": {value}}', "limit", 2.5, as_json=True)) == {"limit": 2.5}


def test_placeholders_and_release_variants(example: Path) -> None:
    spec = load_scenario(example).target("shop").model_dump(mode="json")
    argv, env = variant(spec, "v1.1.0")
    assert env == {"SHOP_VERSION": "v1.1.0", "SHOP_RECO_FAIL_RATE": "0.5"}
    assert [fill(a, 8123, {}) for a in argv] == [sys.executable, "shop.py", "--port", "8123", "--host", "127.0.0.1"]
    assert variant(spec, "v1.0.0")[1] == {"SHOP_VERSION": "v1.0.0"}
    assert fill("{url:db}/x", 1, {"db": "http://127.0.0.1:9"}) == "http://127.0.0.1:9/x"


def test_the_ops_catalog_of_a_command_target(example: Path) -> None:
    info = app_info(load_scenario(example).target("shop").model_dump(mode="json"))
    assert info.versions == ("v1.0.0", "v1.1.0", "v1.1.1") and info.good_release == "v1.0.0"
    assert info.release("v1.1.1").fixes == "v1.1.0"
    assert info.tier == "critical" and not info.release("v1.1.0").good
    assert info.default_flags() == {"recommendations_off": False}
    assert info.default_config() == {"latency_ms": 5} and info.config["latency_ms"].type == "int"


@pytest.mark.parametrize(("fault", "expected"), [
    ("{kind: app.flag, params: {name: nope, value: true}}",
     "faults[1].params.name: expected a flag shop has a lever for (levers.flags: recommendations_off), got 'nope'"),
    ("{kind: app.config, params: {values: {latency: 9}}}",
     "faults[1].params.values: expected settings shop has a lever for (levers.config: latency_ms), got 'latency'"),
    ("{kind: app.leak_rate, params: {bytes_per_request: 1KiB}}",
     "faults[1].kind: expected app.release, app.flag or app.config on your own service"),
])
def test_app_faults_on_your_service_name_its_levers(example: Path, fault: str, expected: str) -> None:
    found = problems(example, "    note: \"the recommendations release goes out\"\n",
                     f"    note: \"the recommendations release goes out\"\n  - {{at: 2m, target: shop, {fault[1:]}\n")
    assert any(expected in p for p in found), found


def test_a_command_target_needs_a_good_release() -> None:
    with pytest.raises(ValidationError, match="at least one good release"):
        Target(name="shop", command={"argv": ["run", "{port}"]}, releases={"v1": {"good": False}})

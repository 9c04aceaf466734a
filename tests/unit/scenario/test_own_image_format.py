"""Your own service on the Docker backend (``targets[].image`` / ``targets[].build``): every mistake in the new
fields is one located line (exit 2 from ``gameday validate``), the wrong backend is refused before anything starts,
and the pure pieces (the Dockerfile's base images, each release's image, the container's command and env) do what
they say. No engine needed: the real-engine tests are in tests/docker/test_own_image.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.errors import InputError, ValidationFailed
from simulator.scenario import load_scenario
from simulator.targets.backends import docker_own
from simulator.targets.command import healthy, refuse_on
from simulator.targets.spec import specs_from_scenario
from tests.helpers.own_service import EXAMPLE, ROOT, assert_located
from tests.helpers.scenario_edits import copy_example, line_of, problems


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example(EXAMPLE, tmp_path / "shop") / "shop-docker.yaml"


BUILD = "    build:\n      context: .                                  # this folder: the Dockerfile beside shop.py\n"
IMAGE = "    image:\n      name: shop:v1.0.0\n"


def test_the_docker_example_loads_with_its_context_made_absolute(example: Path) -> None:
    s = load_scenario(example)
    shop = s.target("shop")
    assert shop.kind == "image" and shop.kind_key == "build" and shop.own is shop.build
    assert shop.build is not None and Path(shop.build.context) == example.parent
    assert shop.build.container_port == 8080 and shop.build.health == "/health"
    assert shop.release_names == ["v1.0.0", "v1.1.0", "v1.1.1"]
    assert shop.releases["v1.1.0"].args == {"SHOP_VERSION": "v1.1.0", "SHOP_RECO_FAIL_RATE": "0.5"}
    assert shop.memory_limit == 256 * 1024 * 1024 and shop.cpus == 1


@pytest.mark.parametrize(("old", "new", "where", "expected"), [
    ("context: .  ", "context: nowhere  ", "context:",
     "targets[0].build.context: expected a folder holding a Dockerfile"),
    ("context: .  ", "dockerfile: Containerfile\n      context: .  ", "dockerfile:",
     "targets[0].build.dockerfile: expected a Dockerfile inside the context"),
    ("context: .  ", "dockerfile: ../../shop/Dockerfile\n      context: .  ", "dockerfile:",
     "targets[0].build.dockerfile: expected a Dockerfile inside the context"),
    ("      port: 8080 ", "      # ", "build:", "targets[0].build: expected 'port' (the port the image's service"),
    ("port: 8080 ", "port: 80800 ", "port:", "targets[0].build.port: expected"),
    ("health: /health ", "health: health ", "health:", "targets[0].build.health: expected the health check as"),
    ("metrics: /metrics ", "metrics: metrics ", "metrics:", "targets[0].build.metrics: expected the metrics path"),
    ("port: 8080 ", "port: 8080\n      argv: [python3, shop.py, --port, '{port}', '{python}']\n", "argv:",
     "targets[0].build.argv: expected a placeholder among {port}, {host}, {url:NAME}, {addr:NAME}, {data}, got "
     "{python}"),
    ("port: 8080 ", "port: 8080\n      env: {SHOP-MODE: x}\n", "env:",
     "targets[0].build.env: expected environment variable names like SHOP_PORT, got 'SHOP-MODE'"),
    ("port: 8080 ", "port: 8080\n      args: {1BAD: x}\n", "args:",
     "targets[0].build.args: expected environment variable names like SHOP_PORT, got '1BAD'"),
    ("port: 8080 ", "port: 8080\n      repository: shop:v1\n", "repository:",
     "targets[0].build.repository: expected an image name without a tag"),
    ("port: 8080 ", "port: 8080\n      startup_timeout: soon\n", "startup_timeout:",
     "targets[0].build.startup_timeout: expected"),
    ("v1.0.0: {args: {SHOP_VERSION: v1.0.0}", "v1.0.0: {image: 'shop:v1', args: {SHOP_VERSION: v1.0.0}",
     "v1.0.0:", "targets[0].releases.v1.0.0.image: expected 'image' in a release only on an image target (a build "
     "target's releases give build 'args')"),
    ("v1.0.0: {args: {SHOP_VERSION: v1.0.0}", "v1.0.0: {env: {A: '{python}'}, args: {SHOP_VERSION: v1.0.0}",
     "v1.0.0:", "targets[0].releases.v1.0.0.env: expected a placeholder among {port}, {host}, {url:NAME}, "
     "{addr:NAME}, {data}, got {python} in '{python}' (a container has no {python})"),
    ("  - name: shop\n", "  - name: shop\n    command: {argv: [x, '{port}']}\n", "- name: shop",
     "targets[0]: expected exactly one of 'app' (a bundled app: payments, gateway, auth), 'command' (your own "
     "service, local backend), 'image' or 'build' (your own service, Docker backend), got command and build"),
    ("    memory_limit: 256MiB", "    config: {pool_size: 3}\n    memory_limit: 256MiB", "- name: shop",
     "targets[0]: expected no 'config' on a build target"),
    ("port: 8080 ", "port: 8080\n      env: {UPSTREAM: '{url:payments}'}\n", "build:",
     "targets[0].build: {url:payments} names a target that is not in depends_on (none)"),
    ("port: 8080 ", "port: 8080\n      env: {DB: '{addr:db}'}\n", "build:",
     "targets[0].build: {addr:db} names a target that is not in depends_on (none)"),
    ("    memory_limit: 256MiB", "    standby: true\n    memory_limit: 256MiB", "standby:",
     "targets[0].standby: expected no 'standby' on this build target: a standby instance runs on the local backend "
     "only"),
    ("params: {version: v1.1.0}", "params: {version: v2}", "params:",
     "faults[0].params.version: expected a release of shop (v1.0.0, v1.1.0, v1.1.1), got 'v2'"),
    ("  locustfile: locustfile.py ", "  # ", "load:", "load: expected 'locustfile' (your own, for your service"),
])
def test_each_mistake_is_one_located_line(example: Path, old: str, new: str, where: str, expected: str) -> None:
    assert_located(example, problems(example, old, new), expected, where)


@pytest.mark.parametrize(("name", "ok"), [
    ("shop:v1.0.0", True), ("registry.local:5000/team/shop:1.0", True), ("shop", True),
    ("gameday/base:bookworm", True), ("Shop:1.0", False), ("shop:", False), ("shop:v1 extra", False),
    ("-shop", False), ("shop@sha256:abc", False),
])
def test_image_names(example: Path, name: str, ok: bool) -> None:
    text = example.read_text()
    block = text[text.index(BUILD):text.index("      health: /health")]
    example.write_text(text.replace(block, IMAGE + "      port: 8080\n").replace("{args: {SHOP_VERSION: v1.1.1}",
                       "{image: 'shop:v1.1.1'").replace("{args: {SHOP_VERSION: v1.1.0, SHOP_RECO_FAIL_RATE: \"0.5\"}",
                       "{image: 'shop:v1.1.0'").replace("{args: {SHOP_VERSION: v1.0.0}", "{env: {}")
                       .replace("name: shop:v1.0.0", f"name: {name!r}"))
    if ok:
        shop = load_scenario(example).target("shop")
        assert shop.image is not None and shop.image.name == name and shop.kind == "image"
        return
    with pytest.raises(ValidationFailed) as info:
        load_scenario(example)
    found = [str(p) for p in info.value.problems]
    assert any("targets[0].image.name: expected an image reference like shop:1.0" in p for p in found), found


def test_release_args_only_on_a_build_target(example: Path) -> None:
    text = example.read_text()
    block = text[text.index(BUILD):text.index("      health: /health")]
    example.write_text(text.replace(block, IMAGE + "      port: 8080\n"))
    with pytest.raises(ValidationFailed) as info:
        load_scenario(example)
    assert any("targets[0].releases.v1.0.0.args: expected 'args' (build arguments) in a release only on a build "
               "target" in str(p) for p in info.value.problems), info.value.problems


def test_gameday_validate_exits_2_with_the_location(example: Path) -> None:
    example.write_text(example.read_text().replace("context: .  ", "context: elsewhere  "))
    r = subprocess.run([sys.executable, "-m", "simulator", "validate", str(example)], capture_output=True,
                       text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{example}:{line_of(example, 'context: elsewhere')}:" in r.stdout + r.stderr
    assert "build.context" in r.stdout + r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(("scenario", "backend", "says"), [
    ("shop-docker.yaml", "local", "target shop: 'build:' runs on the Docker backend; run with --backend docker"),
    ("shop.yaml", "docker", "target shop: 'command:' runs on the local backend; for the Docker backend give it "
                            "'image:'"),
])
@pytest.mark.parametrize("command", ["run", "targets up"])
def test_the_wrong_backend_is_one_line_exit_2_before_anything_starts(example: Path, tmp_path: Path, scenario: str,
                                                                     backend: str, says: str, command: str) -> None:
    runs = tmp_path / "runs"
    r = subprocess.run([sys.executable, "-m", "simulator", *command.split(), str(example.parent / scenario),
                        "--backend", backend, "--out", str(runs)], capture_output=True, text=True, timeout=60,
                       cwd=ROOT, env={**os.environ, "GAMEDAY_HOME": str(tmp_path / "home")})
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], r.stderr
    assert not runs.exists()  # no run folder: nothing started


def test_refuse_on_names_the_first_target_that_cannot_run_there(example: Path) -> None:
    specs = specs_from_scenario(load_scenario(example))
    refuse_on("docker", specs)
    with pytest.raises(InputError, match="target shop: 'build:' runs on the Docker backend"):
        refuse_on("local", specs)
    refuse_on("local", specs_from_scenario(load_scenario(example.parent / "shop.yaml")))


def test_the_dockerfiles_base_images(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("ARG BASE=gameday/base:bookworm\nARG TAG\n"
                          "FROM --platform=linux/amd64 ${BASE} AS build\nRUN true\n"
                          "FROM build\nFROM scratch\nfrom tools:$TAG as t\n")
    assert docker_own.base_images(dockerfile, {}) == [(3, "gameday/base:bookworm"), (7, "tools:")]
    assert docker_own.base_images(dockerfile, {"BASE": "mine:1", "TAG": "2"}) == [(3, "mine:1"), (7, "tools:2")]
    assert docker_own.base_images(EXAMPLE / "Dockerfile", {}) == [(5, "gameday/base:bookworm")]


def test_each_release_has_its_image(example: Path) -> None:
    spec = specs_from_scenario(load_scenario(example))[0]
    images = docker_own.wanted_images(spec)
    repo = docker_own.repository(spec)
    assert repo.startswith("gameday-own/shop-") and images == {r: f"{repo}:{r}" for r in ("v1.0.0", "v1.1.0", "v1.1.1")}
    other = {**spec, "build": {**spec["build"], "context": "/elsewhere"}}
    assert docker_own.repository(other) != repo  # another folder's shop never shares its tags
    assert docker_own.repository({**spec, "build": {**spec["build"], "repository": "team/shop"}}) == "team/shop"
    image = {"name": "shop", "image": {"name": "shop:1"}, "releases": {"v1": {}, "v2": {"image": "shop:2"}}}
    assert docker_own.wanted_images(image) == {"v1": "shop:1", "v2": "shop:2"}
    assert docker_own.wanted_images({"name": "shop", "image": {"name": "shop:1"}}) == {"current": "shop:1"}


def test_the_containers_command_and_env() -> None:
    spec = {"name": "shop", "image": {"name": "shop:1", "argv": ["serve", "--port", "{port}", "--bind", "{host}"],
                                      "env": {"DB": "{url:db}/x", "MODE": "a"}, "port_env": "PORT"},
            "releases": {"v1": {}, "v2": {"env": {"MODE": "b"}, "image": "shop:2"}},
            "images": {"v1": "shop:1", "v2": "shop:2"}}
    links = {"db": "http://172.18.0.1:40000"}
    assert docker_own.run_args(spec, "v1", links) == {
        "image": "shop:1", "command": ["serve", "--port", "8000", "--bind", "0.0.0.0"],
        "environment": {"DB": "http://172.18.0.1:40000/x", "MODE": "a", "PORT": "8000"}}
    v2 = docker_own.run_args(spec, "v2", links)
    assert v2["image"] == "shop:2" and v2["environment"]["MODE"] == "b"
    fixed = {"name": "shop", "build": {"context": "/x", "port": 8080}, "images": {"current": "t:current"}}
    assert docker_own.run_args(fixed, "current", {}) == {"image": "t:current", "command": None, "environment": {}}
    assert docker_own.container_port(fixed) == 8080


def test_a_containers_data_folder_and_a_dependencys_address() -> None:
    spec = {"name": "keeper", "image": {"name": "k:1", "argv": ["serve", "--data", "{data}"], "port": 7000,
                                        "env": {"SHOP": "{addr:shop}"}},
            "releases": {"v1": {}, "v2": {"argv": ["serve", "--slow"]}}, "images": {"v1": "k:1", "v2": "k:1"}}
    run = docker_own.run_args(spec, "v1", {"shop": "http://172.18.0.1:40001"}, volume="gameday-r1-keeper-data")
    assert run["command"] == ["serve", "--data", docker_own.DATA_IN_CONTAINER]
    assert run["environment"] == {"SHOP": "172.18.0.1:40001"}  # the relay to the link proxy, as host:port
    assert run["volumes"] == {"gameday-r1-keeper-data": {"bind": docker_own.DATA_IN_CONTAINER, "mode": "rw"}}
    assert docker_own.uses_data(spec)  # one release using {data} is enough: its volume outlives the switch
    assert not docker_own.uses_data({**spec, "image": {**spec["image"], "argv": ["serve"]}, "releases": {"v1": {}}})
    assert "volumes" not in docker_own.run_args({**spec, "releases": {"v1": {}}}, "v1", {"shop": "http://a:1"})


def test_where_a_container_is_checked_up() -> None:
    tcp = {"name": "db", "image": {"name": "db:1", "port": 5432, "health": "tcp"}}
    # not the published port: the engine's proxy there accepts a connection while nothing in the container listens
    assert docker_own.health_check_url(tcp, "http://127.0.0.1:41000", "172.18.0.3") == "tcp://172.18.0.3:5432"
    assert not healthy(docker_own.health_check_url(tcp, "http://127.0.0.1:41000", None))[0]
    http = {"name": "shop", "build": {"context": "/x", "port": 8080, "health": "/ready"}}
    assert docker_own.health_check_url(http, "http://127.0.0.1:41000", "172.18.0.3") == "http://127.0.0.1:41000/ready"
    said = str(docker_own.not_up(tcp, None, "TCP ConnectionRefusedError", "", 5))
    assert "its port 5432 accepted no TCP connection within 5s" in said and "GET" not in said

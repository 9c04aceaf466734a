"""Your own service on the Docker backend (``targets[].image`` / ``targets[].build``): its images and its container.

Before anything starts, ``prepare`` gives every release of such a target an image the engine has: an ``image:``
target's (the release's ``image``, else the target's) must already be there (gameday pulls nothing: no registry);
a ``build:`` target's context is built through the Docker SDK, once per release (``build.args`` with the release's
``args`` over them), tagged ``<repository>:<release>``. A base image (``FROM``) the engine lacks is refused before
the build, since offline the engine could only try to pull it. Each failure is one ``EnvironmentProblem`` with the
fix; the build's log goes to the run folder.

``run_args`` is how the docker supervisor creates the container: the release's image, its argv (or the image's own
command) and env with the placeholders filled in for the inside of the container (``{port}`` the container port,
``{host}`` 0.0.0.0, ``{url:NAME}`` the relay on the run network's gateway that leads to the link proxy,
``{addr:NAME}`` the same relay as ``IP:PORT``, ``{data}`` ``/data``: a Docker volume of the run's, ``data_volume``,
kept across the container's restarts and release switches, removed with the run's containers), published on the
host's 127.0.0.1 only. ``health: tcp`` is checked on the container's own address on the run network
(``health_url``): the published port accepts connections before the service does.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path
from typing import Any

from simulator.errors import EnvironmentProblem
from simulator.rundir import RunDir
from simulator.scenario.service import CONTAINER_PORT, IMPLICIT_RELEASE, TCP_HEALTH, placeholders
from simulator.targets.command import fill, health_path, health_url, runtime, variant

#: what targets.json calls your own service's container where a bundled app's name goes
KIND = "image"
#: inside a container the service listens on the container's interfaces (published on the host's 127.0.0.1 only)
CONTAINER_HOST = "0.0.0.0"  # noqa: S104 - the container's own interfaces, never the host's
BUILD_LABEL = "gameday.build"  # on a built image: the context it came from
#: where ``{data}`` is inside your container: the mount point of the run's data volume for the target
DATA_IN_CONTAINER = "/data"
BASE_HINT = ("build FROM an image 'docker images' lists (e.g. gameday/base:bookworm, from 'make images'), or load "
             "the base into the engine first ('docker load')")
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)
_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?\s*$", re.IGNORECASE)
_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def releases(spec: dict[str, Any]) -> list[str]:
    return list(spec.get("releases") or {}) or [IMPLICIT_RELEASE]


def repository(spec: dict[str, Any]) -> str:
    """A build target's image name: its ``build.repository``, else ``gameday-own/<target>-<context hash>`` (two
    scenarios' targets of one name built from two folders never share tags)."""
    build = spec["build"]
    if build.get("repository"):
        return build["repository"]
    digest = hashlib.sha256(str(build["context"]).encode()).hexdigest()[:8]
    return f"gameday-own/{spec['name']}-{digest}"


def wanted_images(spec: dict[str, Any]) -> dict[str, str]:
    """Each release's image reference (what the engine must have, or what a build is tagged)."""
    rels = spec.get("releases") or {}
    if spec.get("build"):
        return {r: f"{repository(spec)}:{r}" for r in releases(spec)}
    return {r: (rels.get(r) or {}).get("image") or spec["image"]["name"] for r in releases(spec)}


def base_images(dockerfile: Path, args: dict[str, str]) -> list[tuple[int, str]]:
    """The images a Dockerfile builds FROM (line number, reference), its ARGs filled in; stages and scratch left
    out."""
    defaults: dict[str, str] = {}
    stages: set[str] = set()
    out: list[tuple[int, str]] = []
    for number, line in enumerate(dockerfile.read_text(errors="replace").splitlines(), 1):
        if m := _ARG.match(line):
            defaults.setdefault(m.group(1), m.group(2) or "")
            continue
        if m := _FROM.match(line):
            image = _VAR.sub(lambda v, known={**defaults, **args}: known.get(v.group(1), ""), m.group(1))
            if image.lower() != "scratch" and image not in stages:
                out.append((number, image))
            if m.group(2):
                stages.add(m.group(2))
    return out


def prepare(client: Any, targets: list[dict[str, Any]], run_dir: Path) -> None:
    """Give every release of each image/build target an image in the engine (``spec["images"]``): check it is
    there, or build it. EnvironmentProblem (one line, the fix) when one is missing or a build fails."""
    for spec in targets:
        if spec.get("build"):
            spec["images"] = {r: build(client, spec, r, tag, run_dir) for r, tag in wanted_images(spec).items()}
        elif spec.get("image"):
            spec["images"] = wanted_images(spec)
            for release, image in spec["images"].items():
                if not present(client, image):
                    where = "its image" if image == spec["image"]["name"] else f"release {release}'s image"
                    raise EnvironmentProblem(
                        f"target {spec['name']}: {where} {image} is not in the Docker engine, and gameday pulls "
                        f"nothing (no registry); build it ('docker build -t {image} DIR') or load it "
                        f"('docker load -i FILE'), or give the target 'build:' (a Dockerfile context)")


def present(client: Any, image: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def build(client: Any, spec: dict[str, Any], release: str, tag: str, run_dir: Path) -> str:
    """Build ``release`` of a build target from its context, tagged ``tag``; its log in the run folder."""
    from docker.errors import APIError, BuildError

    name, build_spec = spec["name"], spec["build"]
    context = Path(build_spec["context"])
    dockerfile = context / build_spec.get("dockerfile", "Dockerfile")
    args = {**build_spec.get("args", {}), **((spec.get("releases") or {}).get(release) or {}).get("args", {})}
    for line, base in base_images(dockerfile, args):
        if not base or not present(client, base):
            raise EnvironmentProblem(f"target {name}: {dockerfile}:{line} builds FROM {base or '(empty)'}, which is "
                                     f"not in the Docker engine, and gameday pulls nothing (no registry); {BASE_HINT}")
    log = RunDir(run_dir).log(f"{name}-build")
    log.parent.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    try:
        _, stream = client.images.build(path=str(context), dockerfile=build_spec.get("dockerfile", "Dockerfile"),
                                        tag=tag, buildargs=args, pull=False, rm=True, forcerm=True,
                                        labels={BUILD_LABEL: str(context)})
        lines = [str(chunk.get("stream", "")) for chunk in stream]
    except BuildError as exc:
        lines = [str(chunk.get("stream") or chunk.get("error") or "") for chunk in exc.build_log]
        reason = str(exc.msg).strip().splitlines()[-1] if str(exc.msg).strip() else "the build failed"
        _write(log, release, lines)
        raise EnvironmentProblem(f"target {name}: building release {release} from {context} failed: {reason}; fix "
                                 f"{dockerfile.name} (build log: {log})") from None
    except APIError as exc:
        reason = (exc.explanation or str(exc)).strip().splitlines()[0]
        _write(log, release, lines)
        raise EnvironmentProblem(f"target {name}: the Docker engine refused to build {context}: {reason}; fix the "
                                 f"build context or {dockerfile.name} (build log: {log})") from None
    _write(log, release, lines)
    return tag


def _write(log: Path, release: str, lines: list[str]) -> None:
    with contextlib.suppress(OSError), open(log, "a", encoding="utf-8") as fh:
        fh.write(f"# release {release}\n" + "".join(lines))


def run_args(spec: dict[str, Any], release: str, links: dict[str, str], volume: str | None = None) -> dict[str, Any]:
    """The container of ``release``: image, command (None: the image's own), environment and (``volume``: the
    target's data volume) its mount on ``{data}``, for the SDK's ``containers.create``; ``links``: dependency name ->
    URL as the container reaches it."""
    block = runtime(spec)
    port = container_port(spec)
    argv_t, env_t = variant(spec, release)

    def filled(text: str) -> str:
        return fill(text, port, links, DATA_IN_CONTAINER, host=CONTAINER_HOST)

    env = {k: filled(v) for k, v in env_t.items()}
    if block.get("port_env"):
        env[block["port_env"]] = str(port)
    out = {"image": spec["images"][release], "command": [filled(a) for a in argv_t] or None, "environment": env}
    if volume is not None:
        out["volumes"] = {volume: {"bind": DATA_IN_CONTAINER, "mode": "rw"}}
    return out


def uses_data(spec: dict[str, Any]) -> bool:
    """Does the container, as any of its releases, use ``{data}`` (so it gets a data volume)?"""
    texts = [t for r in releases(spec) for argv, env in [variant(spec, r)] for t in [*argv, *env.values()]]
    return any(name == "data" for t in texts for name, _ in placeholders(t))


def data_volume(client: Any, name: str, labels: dict[str, str]) -> str:
    """The target's data volume ``name`` (created, with the run's ``labels``, unless it is there already)."""
    from docker.errors import NotFound

    try:
        client.volumes.get(name)
    except NotFound:
        client.volumes.create(name=name, labels=labels)
    return name


def health_check_url(spec: dict[str, Any], published_url: str, container_ip: str | None) -> str:
    """Where the supervisor checks the container is up: its health path through the published port, or for
    ``health: tcp`` its port on the container's own address (the engine's proxy on the published port accepts a
    connection even while nothing in the container listens)."""
    path = health_path(spec)
    if path == TCP_HEALTH:
        # no address on the run network yet: a loopback port nothing can listen on, so not up
        return f"tcp://{container_ip}:{container_port(spec)}" if container_ip else "tcp://127.0.0.1:0"
    return health_url(published_url, path)


def container_port(spec: dict[str, Any]) -> int:
    return int(runtime(spec).get("port") or CONTAINER_PORT)


def not_up(spec: dict[str, Any], exited: int | None, last: str, said: str, timeout: float) -> EnvironmentProblem:
    """Why your service's container is not up (it exited, or its health path did not answer in time), with the fix;
    ``said``: the container's last lines."""
    name, path = spec["name"], health_path(spec)
    key, port = ("build" if spec.get("build") else "image"), container_port(spec)
    tcp = path == TCP_HEALTH
    if exited is not None:
        waited = f"its port {port} accepted a connection" if tcp else f"{path} answered"
        return EnvironmentProblem(f"target {name}: its container exited with code {exited} before {waited}"
                                  f"{said}; fix the image's command or {key}.argv/env so the service runs and listens "
                                  f"on port {port} in the container")
    check = f"its port {port} accepted no TCP connection" if tcp else f"GET {path} did not answer 2xx"
    return EnvironmentProblem(f"target {name}: {check} within {timeout:g}s (last: {last})"
                              f"{said}; fix {key}.health, make the service listen on port {port} on the container's "
                              f"interfaces ({{host}}, 0.0.0.0) or set {key}.port to the port it listens on, or raise "
                              f"{key}.startup_timeout")

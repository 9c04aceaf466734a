"""Your own service as a target: ``targets[].command`` (how the local backend starts it), ``targets[].image`` (an
image in the local Docker engine) or ``targets[].build`` (a Dockerfile context the Docker backend builds, no
registry), ``releases`` (named variants of the command, or image tags, a fault or ``gameday ops deploy`` switches
between) and ``levers`` (its own admin HTTP calls, so ``gameday ops flag`` / ``ops config`` work on it). Data only:
the local backend's supervisor starts the command (``simulator.targets.command``), the Docker backend's the
container (``simulator.targets.backends.docker_own``); each answers the ops API for it.

Placeholders, written ``{name}`` (a JSON body's own braces are left alone):

* in ``command.argv`` and ``command.env`` (and a release's): ``{port}`` the port the service must listen on,
  ``{host}`` the address it must bind (127.0.0.1), ``{python}`` the Python gameday runs on, ``{url:NAME}`` the
  link proxy to a dependency NAME (one of ``depends_on``) as an HTTP URL, ``{addr:NAME}`` the same link as
  ``127.0.0.1:PORT`` (for what is not HTTP: a database's address), ``{data}`` a folder for the service's data in
  the run folder (kept across its restarts, removed when the run's targets stop); in a container's ``argv``/``env``
  the same but ``{python}``: ``{port}`` is the port in the container (``port``), ``{host}`` the container's
  interfaces (0.0.0.0; the port is published on the host's 127.0.0.1 only), ``{url:NAME}`` / ``{addr:NAME}`` the
  link as the container reaches it, ``{data}`` ``/data``, where the run's data volume for it is mounted;
* in a lever's ``path``: ``{name}`` the flag or config key, ``{value}`` its value as text (true/false, 250);
* in a lever's ``body``: ``{name}`` as above, ``{value}`` its value as JSON (true, 250, "text").
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.durations import Duration

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z][a-z0-9-]*))?\}")
COMMAND_PLACEHOLDERS = ("port", "host", "python", "url", "addr", "data")
#: the placeholders that name a dependency: ``{url:NAME}``, ``{addr:NAME}``
LINK_PLACEHOLDERS = ("url", "addr")
#: ``health: tcp``: the service is up once its port accepts a TCP connection (a database, anything not HTTP)
TCP_HEALTH = "tcp"
CONTAINER_PLACEHOLDERS = ("port", "host", "url", "addr", "data")
LEVER_PLACEHOLDERS = ("name", "value")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RELEASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,62}$")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
#: an image reference as the engine names it: [host[:port]/]path[:tag][@sha256:digest]
_IMAGE = re.compile(rf"^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
                    rf"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(?:@sha256:[a-f0-9]{{64}})?$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
#: the release a command target without ``releases`` runs
IMPLICIT_RELEASE = "current"
#: policy default: how long a command has to answer its health path (a wall-clock time)
STARTUP_TIMEOUT = 30.0
#: the port a container's service is told to listen on ({port}, port_env) when its image does not fix one
CONTAINER_PORT = 8000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def placeholders(text: str) -> list[tuple[str, str | None]]:
    """The ``{name}`` / ``{name:arg}`` placeholders in ``text``, in order."""
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(text)]


def check_placeholders(texts: list[str], allowed: tuple[str, ...]) -> None:
    for text in texts:
        for name, arg in placeholders(text):
            if name not in allowed:
                shown = ", ".join("{" + a + (":NAME}" if a in LINK_PLACEHOLDERS else "}") for a in allowed)
                raise ValueError(f"a placeholder among {shown}, got "
                                 f"{{{name}}} in {text!r}")
            if (name in LINK_PLACEHOLDERS) != (arg is not None):
                raise ValueError(f"{{url:NAME}} or {{addr:NAME}} (the dependency NAME's link) or a placeholder "
                                 f"without ':', got {{{name}:{arg}}} in {text!r}" if arg else
                                 f"{{{name}:NAME}} with a dependency name, got {{{name}}} in {text!r}")


def _path(value: str, what: str) -> str:
    if not value.startswith("/") or any(c.isspace() for c in value) or "//" in value:
        raise ValueError(f"{what} as an absolute URL path like '/health', got {value!r}")
    return value


def _env_names(env: dict[str, str]) -> dict[str, str]:
    bad = [k for k in env if not _ENV_NAME.match(k)]
    if bad:
        raise ValueError(f"environment variable names like SHOP_PORT, got {bad[0]!r}")
    return env


class _Runs(_Strict):
    """What a command, a container and a release all say: an argv and an environment, with placeholders."""

    #: the placeholders its argv and env may use
    allowed: ClassVar[tuple[str, ...]] = COMMAND_PLACEHOLDERS

    @field_validator("argv", check_fields=False)
    @classmethod
    def _argv(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v or not v[0].strip():
                raise ValueError("a program and its arguments, got an empty argv or program")
            check_placeholders(v, cls.allowed)
        return v

    @field_validator("env", check_fields=False)
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        check_placeholders(list(v.values()), cls.allowed)
        return _env_names(v)

    def texts(self) -> list[str]:
        """Its argv and env values: where placeholders are."""
        return [*(getattr(self, "argv", None) or []), *getattr(self, "env", {}).values()]

    def link_uses(self) -> list[tuple[str, str]]:
        """Its ``{url:NAME}`` / ``{addr:NAME}`` placeholders as (placeholder, dependency NAME)."""
        return [(name, arg) for t in self.texts() for name, arg in placeholders(t) if name in LINK_PLACEHOLDERS and arg]

    def dependencies(self) -> list[str]:
        """The dependencies its ``{url:NAME}`` and ``{addr:NAME}`` placeholders name."""
        return [dep for _, dep in self.link_uses()]


class _Service(_Runs):
    """How gameday knows your service is up and where it reports: what a command and a container share."""

    env: dict[str, str] = Field(default_factory=dict, description="environment added to gameday's own "
                                "(placeholders as in argv)")
    port_env: str | None = Field(None, description="the environment variable the service reads its port from, "
                                 "e.g. PORT (instead of, or beside, {port} in argv/env)")
    health: str = Field("/health", description="path a GET of must answer 2xx once the service is ready, or "
                        "'tcp': up once its port accepts a TCP connection (a database, a service that is not HTTP)")
    metrics: str | None = Field(None, description="path of its Prometheus text metrics, e.g. /metrics; without "
                                "it only the load-derived rules (availability, latency, errors) watch it")
    startup_timeout: Duration = Field(STARTUP_TIMEOUT, description="policy default 30s (wall clock): how long "
                                      "the command has to answer its health path")

    @field_validator("port_env")
    @classmethod
    def _port_env(cls, v: str | None) -> str | None:
        if v is not None and not _ENV_NAME.match(v):
            raise ValueError(f"an environment variable name like PORT, got {v!r}")
        return v

    @field_validator("health")
    @classmethod
    def _health(cls, v: str) -> str:
        if v == TCP_HEALTH:
            return v
        try:
            return _path(v, "the health check")
        except ValueError:
            raise ValueError(f"the health check as an absolute URL path like '/health', or 'tcp' (up once its port "
                             f"accepts a TCP connection), got {v!r}") from None

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: str | None) -> str | None:
        return None if v is None else _path(v, "the metrics path")

    def told_its_port(self) -> bool:
        """Does gameday tell the service its port ({port} in argv or env, or port_env)?"""
        return self.port_env is not None or any(name == "port" for t in self.texts() for name, _ in placeholders(t))


class Command(_Service):
    """How the local backend starts your service and knows it is up."""

    argv: list[str] = Field(min_length=1, description="the program and its arguments, e.g. "
                            "['{python}', 'shop.py', '--port', '{port}']; placeholders {port} {host} {python} "
                            "{url:DEPENDENCY}")
    cwd: str | None = Field(None, description="working directory, relative to the scenario file (default: the "
                            "scenario file's folder)")

    @model_validator(mode="after")
    def _learns_its_port(self) -> Command:
        if not self.told_its_port():
            raise ValueError("{port} in argv or env, or port_env naming the variable the service reads its port "
                             "from (e.g. port_env: PORT): the service must learn its port")
        return self


class _Container(_Service):
    """How the Docker backend runs your service's container and knows it is up."""

    allowed: ClassVar[tuple[str, ...]] = CONTAINER_PLACEHOLDERS

    argv: list[str] | None = Field(None, description="replaces the image's command, e.g. ['python3', 'shop.py', "
                                   "'--port', '{port}', '--host', '{host}']; placeholders {port} {host} "
                                   "{url:DEPENDENCY} {addr:DEPENDENCY} {data} (default: the image's own CMD)")
    port: int | None = Field(None, ge=1, le=65535, description="the port the service listens on inside the "
                             f"container, when the image fixes one (e.g. 8080); else gameday tells it "
                             f"{CONTAINER_PORT} through {{port}} or port_env")

    @model_validator(mode="after")
    def _learns_its_port(self) -> _Container:
        if self.port is None and not self.told_its_port():
            raise ValueError("'port' (the port the image's service listens on, e.g. port: 8080), or {port} in argv "
                             "or env, or port_env naming the variable the service reads its port from: gameday "
                             "must know where the service listens")
        return self

    @property
    def container_port(self) -> int:
        return self.port or CONTAINER_PORT


class Image(_Container):
    """Your service as an image already in the local Docker engine (gameday pulls nothing)."""

    name: str = Field(description="the image, e.g. shop:1.0 (as 'docker images' lists it)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_image(v)


class Build(_Container):
    """Your service built from a Dockerfile context by the Docker backend (no registry: its base image must be in
    the engine, e.g. gameday/base:bookworm)."""

    context: str = Field(".", description="the folder holding the Dockerfile and the files it copies, relative to "
                         "the scenario file")
    dockerfile: str = Field("Dockerfile", description="the Dockerfile, relative to the context")
    args: dict[str, str] = Field(default_factory=dict, description="build arguments (ARG) for every release")
    repository: str | None = Field(None, description="the image name the builds are tagged with, one tag per "
                                   "release (default: gameday-own/<target>)")

    @field_validator("args")
    @classmethod
    def _args(cls, v: dict[str, str]) -> dict[str, str]:
        return _env_names(v)

    @field_validator("repository")
    @classmethod
    def _repository(cls, v: str | None) -> str | None:
        if v is not None and (":" in v.rsplit("/", 1)[-1] or "@" in v):
            raise ValueError(f"an image name without a tag (gameday tags it with each release), got {v!r}")
        return None if v is None else check_image(v)


class Release(_Runs):
    """One named version of the service: what differs from the base command or container."""

    allowed: ClassVar[tuple[str, ...]] = COMMAND_PLACEHOLDERS  # a container's are checked by its target

    argv: list[str] | None = Field(None, description="replaces the command's (or the container's) argv")
    env: dict[str, str] = Field(default_factory=dict, description="added over the command's (or container's) env")
    image: str | None = Field(None, description="image targets: the image of this release, e.g. shop:1.1.0")
    args: dict[str, str] = Field(default_factory=dict, description="build targets: build arguments of this "
                                 "release (over build.args); each release is built as its own tag")
    good: bool = Field(True, description="false: a bad release (what an app.release fault deploys)")
    notes: str = ""
    fixes: str | None = Field(None, description="the bad release this one fixes (a permanent fix)")

    @field_validator("image")
    @classmethod
    def _image(cls, v: str | None) -> str | None:
        return None if v is None else check_image(v)

    @field_validator("args")
    @classmethod
    def _args(cls, v: dict[str, str]) -> dict[str, str]:
        return _env_names(v)


Scalar = bool | int | float | str


class LeverCall(_Strict):
    """One admin HTTP call of the service (straight to it, not through its front proxy)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(description="e.g. /admin/flags/{name}")
    body: str | None = Field(None, description="a JSON template, e.g. '{\"enabled\": {value}}' ({value} as JSON)")
    description: str = ""

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        check_placeholders([v], LEVER_PLACEHOLDERS)
        return _path(v, "the admin call's path")

    @field_validator("body")
    @classmethod
    def _body(cls, v: str | None) -> str | None:
        if v is None:
            return v
        check_placeholders([v], LEVER_PLACEHOLDERS)
        try:
            json.loads(render(v, "x", 1, as_json=True))
        except ValueError as exc:
            raise ValueError(f"a JSON body once {{name}} and {{value}} are filled in ({exc}), got {v!r}") from None
        return v


class FlagLever(LeverCall):
    default: bool = Field(False, description="the flag's value when the service starts")


class ConfigLever(LeverCall):
    default: Scalar = Field(description="the setting's value when the service starts (its type is the setting's)")


class Levers(_Strict):
    flags: dict[str, FlagLever] = Field(default_factory=dict, description="flag name -> the call that sets it")
    config: dict[str, ConfigLever] = Field(default_factory=dict, description="setting -> the call that sets it")

    @field_validator("flags", "config")
    @classmethod
    def _names(cls, v: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in v if not re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", k)]
        if bad:
            raise ValueError(f"names like degraded_mode, got {bad[0]!r}")
        return v


def render(template: str, name: str, value: Scalar, *, as_json: bool) -> str:
    """A lever's path (``as_json=False``: the value as text) or body (the value as JSON) for one call."""
    text = json.dumps(value) if as_json else (str(value).lower() if isinstance(value, bool) else str(value))
    return PLACEHOLDER.sub(lambda m: {"name": name, "value": text}.get(m.group(1), m.group(0)), template)


def check_image(name: str) -> str:
    if not _IMAGE.match(name):
        raise ValueError(f"an image reference like shop:1.0 or registry.local/team/shop:1.0 (lowercase name, "
                         f"optional tag), got {name!r}")
    return name


def check_release_name(name: str) -> str:
    if not _RELEASE.match(name):
        raise ValueError(f"release names like v1.2.0 or v2-slow, got {name!r}")
    return name

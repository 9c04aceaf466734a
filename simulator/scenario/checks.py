"""Cross-field checks on a structurally valid scenario, each problem located in the file."""

from __future__ import annotations

import difflib
from pathlib import Path as FsPath

from simulator.domain.ops_action import OpsAction
from simulator.errors import Problem
from simulator.faults.catalog import FAULT_KINDS
from simulator.load.locustfiles import defined_classes
from simulator.scenario.loader import Locator, validate_data
from simulator.scenario.model import _NAME, Fault, Scenario, Target
from simulator.scenario.service import CONTAINER_PLACEHOLDERS, check_placeholders
from simulator.scenario.yamlpos import Path


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def fault_target_names(scenario: Scenario) -> list[str]:
    """Targets a fault may name: each target, and each dependency edge 'a->b' (the link proxy)."""
    names = [t.name for t in scenario.targets]
    names += [f"{t.name}->{dep}" for t in scenario.targets for dep in t.depends_on]
    return names


def check_fault(fault: Fault, path: Path, scenario: Scenario, loc: Locator) -> list[Problem]:
    problems: list[Problem] = []
    spec = FAULT_KINDS.get(fault.kind)
    if spec is None:
        problems.append(loc.problem(path + ("kind",), f"unknown fault kind {fault.kind!r}"
                                    f"{_suggest(fault.kind, list(FAULT_KINDS))}; see 'gameday fault list'"))
    else:
        _, param_problems = validate_data(spec.params, fault.params, loc, prefix=path + ("params",))
        problems += param_problems
    targets = fault_target_names(scenario)
    if fault.target not in targets:
        problems.append(loc.problem(path + ("target",), f"fault names target {fault.target!r}, which is not "
                                    f"declared; declared: {', '.join(targets)}"))
    if spec is not None and spec.family == "app" and "->" in fault.target:
        problems.append(loc.problem(path + ("target",), f"{fault.kind} needs a target, not a link"))
    max_d = scenario.timing.max_duration
    if fault.at > max_d:
        problems.append(loc.problem(path + ("at",), f"fault scheduled at {fault.at:g}s, after timing.max_duration "
                                    f"({max_d:g}s)"))
    return problems


def check_scenario(scenario: Scenario, loc: Locator) -> list[Problem]:
    problems: list[Problem] = []
    names = [t.name for t in scenario.targets]
    seen: set[str] = set()
    for i, t in enumerate(scenario.targets):
        if t.name in seen:
            problems.append(loc.problem(("targets", i, "name"), f"duplicate target name {t.name!r}"))
        seen.add(t.name)
        for j, dep in enumerate(t.depends_on):
            if dep not in names or dep == t.name:
                problems.append(loc.problem(("targets", i, "depends_on", j),
                                            f"unknown dependency {dep!r}; declared targets: {', '.join(names)}"))
    if scenario.load.target and scenario.load.target not in names:
        problems.append(loc.problem(("load", "target"), f"load target {scenario.load.target!r} is not declared"
                                    f"{_suggest(scenario.load.target, names)}"))
    probes = [(("steady_state", i), p) for i, p in enumerate(scenario.steady_state)]
    probes += [(("timing", "stop_conditions", i), p) for i, p in enumerate(scenario.timing.stop_conditions)]
    for path, probe in probes:
        if probe.target not in names:
            problems.append(loc.problem(path + ("target",), f"unknown target {probe.target!r}"))
    for i, rule in enumerate(scenario.alerts):
        if rule.target is not None and rule.target not in names:
            problems.append(loc.problem(("alerts", i, "target"), f"unknown target {rule.target!r}"))
    ids: set[str] = set()
    for i, fault in enumerate(scenario.faults):
        problems += check_fault(fault, ("faults", i), scenario, loc)
        fid = scenario.fault_id(i)
        if fid in ids:
            problems.append(loc.problem(("faults", i, "id"), f"duplicate fault id {fid!r}"))
        ids.add(fid)
    for i, esc in enumerate(scenario.escalations):
        if not scenario.faults:
            problems.append(loc.problem(("escalations", i), "an escalation needs at least one fault to escalate"))
        if esc.fault is not None:
            problems += check_fault(esc.fault, ("escalations", i, "fault"), scenario, loc)
        if esc.severity is None and esc.fault is None:
            problems.append(loc.problem(("escalations", i), "expected 'severity' or 'fault' (what escalates)"))
    problems += _check_variants(scenario, loc)
    problems += _check_own_service(scenario, loc)
    problems += _check_failover(scenario, loc)
    for i, step in enumerate(scenario.responder.runbook):
        if step.action is not None:
            target = OpsAction.parse(step.action).target  # the model has checked its form
            if target not in names:
                problems.append(loc.problem(("responder", "runbook", i, "action"),
                                            f"action names target {target!r}, which is not declared"))
    return problems + _check_escalations(scenario, loc)


def _check_escalations(scenario: Scenario, loc: Locator) -> list[Problem]:
    """``escalate:<target>`` (a runbook step, an accepted mitigation) needs a target with an ``owner``."""
    owned = [t.name for t in scenario.targets if t.owner is not None]
    places = [(("responder", "runbook", i, "action"), s.action) for i, s in enumerate(scenario.responder.runbook)]
    places += [(("truth", "accepted_mitigations", i), a) for i, a in enumerate(scenario.truth.accepted_mitigations)]
    problems = []
    for path, text in places:
        action = OpsAction.parse(text) if text else None
        if action is not None and action.verb == "escalate" and action.target not in owned:
            problems.append(loc.problem(path, f"escalate:{action.target} needs an owning team: give target "
                                              f"{action.target!r} an owner ({{team: ..., fixes_after: ...}}); owned: "
                                              f"{', '.join(owned) or 'none'}"))
    return problems


def _check_failover(scenario: Scenario, loc: Locator) -> list[Problem]:
    """A failover (a runbook step, an accepted or harmful action) needs a target with a standby to go to."""
    standby = [t.name for t in scenario.targets if t.standby]
    places = [(("responder", "runbook", i, "action"), step.action) for i, step in enumerate(scenario.responder.runbook)]
    places += [(("truth", key, j), text) for key in ("accepted_mitigations", "harmful_actions")
               for j, text in enumerate(getattr(scenario.truth, key))]
    problems = []
    for path, text in places:
        action = OpsAction.parse(text) if text else None  # the model has checked its form
        if action is not None and action.verb == "failover" and action.target not in standby:
            problems.append(loc.problem(path, f"{text} needs a target with 'standby: true' (targets with one: "
                                        f"{', '.join(standby) or 'none'})"))
    return problems


def _check_variants(scenario: Scenario, loc: Locator) -> list[Problem]:
    problems = [loc.problem(("variants", name), f"expected variant names like 'before' (lowercase with dashes), "
                            f"got {name!r}", at_key=True) for name in scenario.variants if not _NAME.match(name)]
    chosen = scenario.default_variant
    if chosen is not None and chosen not in scenario.variants:
        known = ", ".join(scenario.variants) or "none"
        problems.append(loc.problem(("default_variant",), f"expected a declared variant ({known}), got {chosen!r}"
                                    f"{_suggest(chosen, list(scenario.variants))}"))
    return problems


def _check_own_service(scenario: Scenario, loc: Locator) -> list[Problem]:
    """Your own service's files and names: a command's folder, a build's context and Dockerfile, dependencies, a
    release a fault deploys, the locustfile and its user classes (read, never run)."""
    problems: list[Problem] = []
    base = scenario_folder(loc.filename)
    for i, t in enumerate(scenario.targets):
        own = t.own
        if own is None:
            continue
        if t.command is not None and t.command.cwd is not None and not (base / t.command.cwd).is_dir():
            problems.append(loc.problem(("targets", i, "command", "cwd"), f"expected a folder (relative to "
                                        f"{base}), got {t.command.cwd!r}, which is not one"))
        if t.build is not None:
            problems += _check_build(t, ("targets", i, "build"), base, loc)
        if t.standby and t.command is None:
            problems.append(loc.problem(("targets", i, "standby"), f"expected no 'standby' on this {t.kind_key} "
                                        f"target: a standby instance runs on the local backend only (a command "
                                        f"target or a bundled app), and {t.kind_key}: runs on the Docker backend"))
        problems += _check_releases(t, ("targets", i, "releases"), loc)
        uses = [*own.link_uses(), *(u for r in t.releases.values() for u in r.link_uses())]
        for placeholder, dep in dict.fromkeys(uses):
            if dep not in t.depends_on:
                problems.append(loc.problem(("targets", i, t.kind_key), f"{{{placeholder}:{dep}}} names a target "
                                            f"that is not in depends_on ({', '.join(t.depends_on) or 'none'})"))
    names = [t.name for t in scenario.targets]
    for i, fault in enumerate(scenario.faults):
        if fault.kind.startswith("app.") and fault.target in names and scenario.target(fault.target).own:
            problems += _check_app_fault(scenario.target(fault.target), fault, ("faults", i), loc)
    load = scenario.load
    if load.locustfile is None:
        if scenario.target(scenario.load_target).own is not None:
            problems.append(loc.problem(("load",), f"expected 'locustfile' (your own, for your service "
                                        f"{scenario.load_target!r}): the bundled ones know only the bundled apps"))
        elif load.user_classes:
            problems.append(loc.problem(("load", "user_classes"), "user_classes go with your own 'locustfile'"))
        return problems
    path = base / load.locustfile
    try:
        if path.suffix != ".py":
            raise ValueError("Locust loads files ending in .py")
        classes = defined_classes(path)
    except (OSError, ValueError) as exc:
        what = "no such file" if not path.exists() else str(exc)
        problems.append(loc.problem(("load", "locustfile"), f"expected a Python locustfile (relative to {base}), "
                                    f"got {load.locustfile!r}: {what}"))
        return problems
    for j, name in enumerate(load.user_classes):
        if name not in classes:
            problems.append(loc.problem(("load", "user_classes", j), f"expected a class {path.name} defines "
                                        f"({', '.join(classes) or 'none'}), got {name!r}{_suggest(name, classes)}"))
    return problems


def _check_releases(t: Target, path: Path, loc: Locator) -> list[Problem]:
    """What a release may say depends on how the service runs: an image (image targets), build arguments (build
    targets), a container's placeholders (no {python})."""
    problems: list[Problem] = []
    for name, release in t.releases.items():
        if release.image is not None and t.image is None:
            problems.append(loc.problem(path + (name, "image"), "expected 'image' in a release only on an image target "
                                        + ("(a build target's releases give build 'args')" if t.build else
                                           "(a command target's releases give 'argv' or 'env')")))
        if release.args and t.build is None:
            problems.append(loc.problem(path + (name, "args"), "expected 'args' (build arguments) in a release only "
                                        "on a build target"))
        for key in ("argv", "env") if t.command is None else ():
            texts = (release.argv or []) if key == "argv" else list(release.env.values())
            try:
                check_placeholders(texts, CONTAINER_PLACEHOLDERS)
            except ValueError as exc:
                problems.append(loc.problem(path + (name, key), f"expected {exc} (a container has no {{python}})"))
    return problems


def _check_build(t: Target, path: Path, base: FsPath, loc: Locator) -> list[Problem]:
    """A build's context is a folder holding its Dockerfile."""
    build = t.build
    assert build is not None
    context = base / build.context
    if not context.is_dir():
        return [loc.problem(path + ("context",), f"expected a folder holding a Dockerfile (relative to {base}), got "
                            f"{build.context!r}, which is not a folder")]
    dockerfile = context / build.dockerfile
    if not dockerfile.is_file() or not dockerfile.resolve().is_relative_to(context.resolve()):
        return [loc.problem(path + ("dockerfile" if "dockerfile" in build.model_fields_set else "context",),
                            f"expected a Dockerfile inside the context {context}, got {build.dockerfile!r}, which is "
                            f"not a file there")]
    return []


def _check_app_fault(t: Target, fault: Fault, path: Path, loc: Locator) -> list[Problem]:
    """An app fault on your own service names one of its releases, or a flag or setting it has a lever for."""
    levers = t.levers
    flags, settings = (list(levers.flags), list(levers.config)) if levers else ([], [])
    params = fault.params
    if fault.kind == "app.release" and params.get("version") not in t.release_names:
        return [loc.problem(path + ("params", "version"), f"expected a release of {t.name} "
                            f"({', '.join(t.release_names)}), got {params.get('version')!r}")]
    if fault.kind == "app.flag" and params.get("name") not in flags:
        return [loc.problem(path + ("params", "name"), f"expected a flag {t.name} has a lever for (levers.flags: "
                            f"{', '.join(flags) or 'none'}), got {params.get('name')!r}")]
    if fault.kind == "app.config":
        unknown = [k for k in (params.get("values") or {}) if k not in settings]
        if unknown:
            return [loc.problem(path + ("params", "values"), f"expected settings {t.name} has a lever for "
                                f"(levers.config: {', '.join(settings) or 'none'}), got {unknown[0]!r}")]
    if fault.kind == "app.leak_rate":
        return [loc.problem(path + ("kind",), "expected app.release, app.flag or app.config on your own service "
                            "(its settings change through its levers), got app.leak_rate (the bundled auth app's)")]
    return []


def scenario_folder(filename: str) -> FsPath:
    """The folder a scenario's relative paths start from (the current one for a scenario given as text)."""
    return FsPath(filename).resolve().parent if not filename.startswith("<") else FsPath.cwd()

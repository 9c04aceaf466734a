"""``gameday incident ...``: work incidents from the terminal, against a tracker URL or a local database.

Every command takes ``--tracker URL`` (or ``$GAMEDAY_TRACKER_URL``) to talk to a running tracker,
otherwise it opens the local database (``--db``, ``$GAMEDAY_TRACKER_DB``, ``.gameday/tracker.db``).
``--as NAME`` is who did it (default ``$GAMEDAY_USER``, else ``$USER``); ``--json`` prints the API's JSON for
scripts. Both backends are a ``TrackerPort``; the renderers read its typed results.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulator.domain import standard
from simulator.errors import InputError
from simulator.tracker import lifecycle

if TYPE_CHECKING:
    from simulator.tracker.port import IncidentOut, IncidentSummary, PostmortemOut, TimelineEventOut, TrackerPort

# The tracker's client and database are imported where a command opens one (simulator/cli/__init__.py says why).
console = Console(highlight=False)

Tracker = Annotated[str | None, typer.Option("--tracker", envvar="GAMEDAY_TRACKER_URL",
                                             help="URL of a running tracker (default: the local database)")]
Db = Annotated[str | None, typer.Option("--db", help=escape("Local tracker database [default: $GAMEDAY_TRACKER_DB or "
                                               ".gameday/tracker.db]"))]
Token = Annotated[str | None, typer.Option("--token", envvar="GAMEDAY_TRACKER_TOKEN", help="Bearer token")]
As = Annotated[str | None, typer.Option("--as", envvar="GAMEDAY_USER", show_envvar=True,
                                        help=escape("Who is doing this [default: $GAMEDAY_USER, else the OS user]"))]
Json = Annotated[bool, typer.Option("--json", help="Print JSON")]
Ref = Annotated[str, typer.Argument(help="Incident id, e.g. INC-2024-0001")]
Note = Annotated[str, typer.Option("--note", "-m", help="A note for the timeline")]

SEV_STYLE = {"P1": "bold white on red", "P2": "bold white on dark_orange3", "P3": "bold black on yellow",
             "P4": "bold white on grey35"}


def _backend(tracker: str | None, db: str | None, token: str | None, actor: str | None) -> TrackerPort:
    if tracker and db:
        raise InputError("give either --tracker URL or --db PATH, not both")
    if tracker:
        from simulator.tracker.client import TrackerClient

        return TrackerClient(tracker, token=token, actor=actor)
    from simulator.tracker.db import default_db
    from simulator.tracker.local import LocalTracker

    return LocalTracker(db or default_db(), actor=actor)


def _emit(data: Any, as_json: bool, render: Callable[[Any], object] | None = None) -> None:
    """``data`` (results, or lists and dicts of them) as the API's JSON, or through ``render``."""
    if as_json or render is None:
        from pydantic_core import to_jsonable_python

        typer.echo(json.dumps(to_jsonable_python(data), indent=2, default=str))
    else:
        render(data)


def _sev(code: str) -> str:
    return f"[{SEV_STYLE.get(code, 'bold')}] {code} [/]"


def _time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _render_list(rows: list[IncidentSummary]) -> None:
    if not rows:
        console.print("no incidents")
        return
    table = Table(show_lines=False)
    for column in ("id", "sev", "status", "service", "title", "IC", "opened", "alerts", "flags"):
        # an id is copied into the next command: never cut or wrapped, whatever the terminal's width
        table.add_column(column, no_wrap=column in ("id", "sev", "alerts"),
                         min_width=len(rows[0].ref) if column == "id" else None)
    for r in rows:
        flags = [f for f, on in (("response overdue", r.response_overdue),
                                 ("update overdue", r.update_overdue), ("exercise", r.exercise)) if on]
        table.add_row(r.ref, _sev(r.severity), r.status, escape(r.service), escape(r.title),
                      escape(r.roles.get("incident_commander", "")), _time(r.created_at),
                      f"{r.firing_count}/{r.alert_count}", ", ".join(flags))
    console.print(table)


def _render_incident(inc: IncidentOut, timeline: list[TimelineEventOut] | None = None) -> None:
    console.print(f"{_sev(inc.severity)} [bold]{inc.ref}[/] {escape(inc.title)}")
    console.print(f"status [bold]{inc.status}[/] · service {escape(inc.service)} · channel "
                  f"{escape(inc.channel)}" + (" · exercise" if inc.exercise else "")
                  + (f" · run {escape(inc.run_id)}" if inc.run_id else ""))
    for label, when in (("triggered", inc.created_at), ("acknowledged", inc.acknowledged_at),
                        ("declared", inc.declared_at), ("mitigated", inc.mitigated_at),
                        ("resolved", inc.resolved_at), ("closed", inc.closed_at)):
        if when is not None:
            console.print(f"  {label:<13} {_time(when)}")
    if inc.allowed_transitions:
        console.print(f"next: {', '.join(inc.allowed_transitions)}")
    if inc.role_assignments:
        console.print("roles: " + ", ".join(f"{escape(r.label)} {escape(r.person)}" for r in inc.role_assignments))
    if inc.checklist:
        ticks = " ".join("☑" if c.checked else "☐" for c in inc.checklist)
        console.print(f"checklist: {ticks}")
    if inc.update_overdue:
        console.print("[bold red]status update overdue[/]")
    if inc.status_updates:
        console.print("[bold]latest status update[/]")
        console.print(escape(inc.status_updates[-1].text))
    if timeline:
        console.print("[bold]timeline[/]")
        for e in timeline:
            console.print(f"  {_time(e.at)}  {e.kind:<24} {escape(e.summary)}")


def _render_pages(pages: list[Any]) -> None:
    if not pages:
        console.print("nobody was paged (no rotation or on-call covers the service)")
    for p in pages:
        state = (f"acknowledged by {escape(p.acknowledged_by or '?')} {_time(p.acknowledged_at)}" if p.acknowledged
                 else f"escalated {_time(p.escalated_at)}" if p.escalated_at else "not acknowledged")
        failed = [d for d in p.deliveries if not d.get("ok")]
        sent = f"; webhook failed: {escape(str(failed[-1].get('error')))}" if failed else ""
        console.print(f"{_time(p.at)}  {p.tier:<9} {escape(p.person)} via {p.channel}: {state}{sent}", soft_wrap=True)
        console.print(f"           {escape(p.reason)}", soft_wrap=True)


Force = Annotated[bool, typer.Option("--force", help="Go ahead although the incident's alerts are still firing")]


def _refuse_while_firing(t: TrackerPort, ref: str, verb: str) -> None:
    """An input error naming the incident's firing alerts, if any: the impact may not have stopped."""
    firing = t.alerts(incident=ref, status="firing")
    if firing:
        names = ", ".join(sorted({f"{a.name} on {a.service}" if a.service else a.name for a in firing}))
        raise InputError(f"{ref}: {len(firing)} alert(s) still firing ({names}); check the impact has stopped, "
                         f"or {verb} anyway with --force")


POSTMORTEM_KEYS: tuple[str, ...] = ("title", *standard.POSTMORTEM_FIELDS, "meeting_date")
SET_HELP = ("field=value (repeatable), e.g. root_cause='pool exhausted'; \\n for a new line. Fields: "
            + ", ".join(POSTMORTEM_KEYS))


def _postmortem_key(key: str) -> str:
    """A ``--set`` field, or an input error naming the closest valid ones."""
    if key in POSTMORTEM_KEYS:
        return key
    close = difflib.get_close_matches(key, POSTMORTEM_KEYS, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else f"fields: {', '.join(POSTMORTEM_KEYS)}"
    raise InputError(f"--set {key}: no such post-mortem field; {hint}")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Work incidents: list, show, ack, declare, assign, update, notify, checklist, mitigate, "
                           "resolve, false-alarm, pages, postmortem.", no_args_is_help=True)

    @sub.command("list")
    def list_(status: Annotated[list[str] | None, typer.Option("--status", help="Only these statuses")] = None,
              open_only: Annotated[bool, typer.Option("--open", help="Only open incidents")] = False,
              service: Annotated[str | None, typer.Option(help="Only this service")] = None,
              run_id: Annotated[str | None, typer.Option(help="Only this run")] = None,
              limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
              tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
              as_json: Json = False) -> None:
        """Incidents, newest first."""
        t = _backend(tracker, db, token, actor)
        _emit(t.list_incidents(status=status, service=service, run_id=run_id, open_only=open_only, limit=limit),
              as_json, _render_list)

    @sub.command()
    def show(ref: Ref, timeline: Annotated[bool, typer.Option("--timeline/--no-timeline")] = True,
             tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
             as_json: Json = False) -> None:
        """One incident: status, times, roles, checklist, latest update, timeline."""
        t = _backend(tracker, db, token, actor)
        inc = t.get_incident(ref)
        events = t.timeline(ref) if timeline else None
        if as_json:
            _emit({"incident": inc, "timeline": events}, True)
        else:
            _render_incident(inc, events)

    def _simple(name: str, method: str, help_text: str) -> None:
        def command(ref: Ref, note: Note = "", tracker: Tracker = None, db: Db = None, token: Token = None,
                    actor: As = None, as_json: Json = False) -> None:
            t = _backend(tracker, db, token, actor)
            inc = getattr(t, method)(ref, note=note)
            _emit(inc, as_json, lambda i: console.print(f"{i.ref} is now [bold]{i.status}[/]"))

        command.__doc__ = help_text
        sub.command(name)(command)

    def _ending(name: str, method: str, target: str, help_text: str) -> None:
        """mitigate, resolve, close (``lifecycle.CONFIRM_WHILE_FIRING``): refused while the incident's
        alerts still fire, unless --force."""
        assert target in lifecycle.CONFIRM_WHILE_FIRING
        def command(ref: Ref, note: Note = "", force: Force = False, tracker: Tracker = None, db: Db = None,
                    token: Token = None, actor: As = None, as_json: Json = False) -> None:
            t = _backend(tracker, db, token, actor)
            if not force and target in t.get_incident(ref).allowed_transitions:  # else the tracker's own error
                _refuse_while_firing(t, ref, name)
            inc = getattr(t, method)(ref, note=note)
            _emit(inc, as_json, lambda i: console.print(f"{i.ref} is now [bold]{i.status}[/]"))

        command.__doc__ = help_text + " Refused while its alerts are firing, unless --force."
        sub.command(name)(command)

    _simple("ack", "ack", "Acknowledge: someone is looking at it.")
    _ending("mitigate", "mitigate", "mitigated", "Mark mitigated: the impact has stopped.")
    _ending("resolve", "resolve", "resolved", "Mark resolved.")
    _ending("close", "close_incident", "closed", "Close (after the post-mortem, or a false alarm).")
    _simple("reopen", "reopen", "Back to investigating (the mitigation did not hold, or it came back).")

    @sub.command("false-alarm")
    def false_alarm(ref: Ref, note: Annotated[str, typer.Option("--note", "-m", help="Why it is not real: what was "
                                                                "verified (required)")],
                    tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
                    as_json: Json = False) -> None:
        """The standard's "False Alarm -> Document and Close": verify, note why, close, in one step."""
        t = _backend(tracker, db, token, actor)
        inc = t.false_alarm(ref, note=note)
        _emit(inc, as_json, lambda i: console.print(f"{i.ref} closed as a false alarm"))

    @sub.command()
    def pages(ref: Ref, tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
              as_json: Json = False) -> None:
        """Who was paged for the incident: primary, and the secondary when the primary did not acknowledge."""
        t = _backend(tracker, db, token, actor)
        _emit(t.pages(ref), as_json, _render_pages)

    @sub.command()
    def declare(ref: Ref,
                level: Annotated[str | None, typer.Argument(help="P1, P2, P3 or P4 (or give --severity)",
                                                            show_default=False)] = None,
                severity: Annotated[str | None, typer.Option("--severity", "-s", help="P1, P2, P3 or P4")] = None,
                title: Annotated[str | None, typer.Option(help="A better title")] = None,
                tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
                as_json: Json = False) -> None:
        """Declare the incident with a severity (opens the incident channel)."""
        if level and severity and level.upper() != severity.upper():
            raise InputError(f"severity given twice and different: {level} and --severity {severity}; give one")
        if not (level or severity):
            raise InputError("declare needs a severity: gameday incident declare REF P1 (or --severity P1)")
        t = _backend(tracker, db, token, actor)
        inc = t.declare(ref, (level or severity or "").upper(), title=title)
        _emit(inc, as_json, lambda i: console.print(
            f"{i.ref} declared {_sev(i.severity)} · channel {escape(i.channel)}"))

    @sub.command()
    def severity(ref: Ref, level: Annotated[str, typer.Argument(help="P1, P2, P3 or P4")],
                 reason: Annotated[str, typer.Option(help="Why")] = "",
                 tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
                 as_json: Json = False) -> None:
        """Change the severity (kept in the history)."""
        t = _backend(tracker, db, token, actor)
        inc = t.set_severity(ref, level.upper(), reason=reason)
        _emit(inc, as_json, lambda i: console.print(f"{i.ref} is now {_sev(i.severity)}"))

    @sub.command()
    def assign(ref: Ref, role: Annotated[str, typer.Argument(help="ic, tech-lead, comms-lead or scribe")],
               person: Annotated[str, typer.Argument(help="Who")],
               tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
               as_json: Json = False) -> None:
        """Assign a role: Incident Commander, Technical Lead, Communications Lead, Scribe."""
        t = _backend(tracker, db, token, actor)
        inc = t.assign(ref, role, person)
        _emit(inc, as_json, lambda i: console.print(
            "roles: " + ", ".join(f"{escape(r.label)} {escape(r.person)}" for r in i.role_assignments)))

    @sub.command()
    def update(ref: Ref,
               status: Annotated[str, typer.Option("--status", help="Investigating, Mitigating or Resolved")],
               know: Annotated[str, typer.Option("--know", help="What we know")],
               doing: Annotated[str, typer.Option("--doing", help="What we're doing")],
               next_in: Annotated[int | None, typer.Option("--next-in", min=1, max=10080,
                                                           help="Next update expected in N minutes")] = None,
               headline: Annotated[str | None, typer.Option(help="The 'Incident:' line")] = None,
               external: Annotated[bool, typer.Option("--external", help="Customers see it (status page), not "
                                                      "only the team")] = False,
               tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
               as_json: Json = False) -> None:
        """Post a status update in the standard's template (--external: one customers see)."""
        t = _backend(tracker, db, token, actor)
        result = t.status_update(ref, status, know, doing, next_update_in_minutes=next_in, headline=headline,
                                 audience="external" if external else "internal")
        _emit(result, as_json, lambda u: console.print(("[bold]external[/] " if u.audience == "external" else "")
                                                       + escape(u.text)))

    @sub.command()
    def notify(ref: Ref, text: Annotated[str, typer.Argument(help="The message customers get")],
               channel: Annotated[str, typer.Option("--channel", help="status_page, email or support")] = "status_page",
               to: Annotated[str | None, typer.Option("--to", help="Who it went to, e.g. 'Acme account team'")] = None,
               tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
               as_json: Json = False) -> None:
        """Record a message to customers (status page, email, support) on the incident's timeline."""
        t = _backend(tracker, db, token, actor)
        _emit(t.customer_message(ref, channel, text, to=to), as_json, lambda m: console.print(
            f"#{m.seq} customer message ({escape(m.channel)}{' to ' + escape(m.to) if m.to else ''}) recorded"))

    @sub.command()
    def checklist(ref: Ref, item: Annotated[str, typer.Argument(help="deployments, logs, infrastructure, "
                                                                "dependencies, configuration, users (or 1-6)")],
                  uncheck: Annotated[bool, typer.Option("--uncheck", help="Untick it")] = False,
                  note: Note = "",
                  tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
                  as_json: Json = False) -> None:
        """Tick an investigation checklist item."""
        t = _backend(tracker, db, token, actor)
        inc = t.checklist(ref, item, checked=not uncheck, note=note)

        def render(i: IncidentOut) -> None:
            for c in i.checklist:
                mark = "☑" if c.checked else "☐"
                who = f"  ({escape(c.checked_by or '')})" if c.checked else ""
                console.print(f"{mark} {escape(c.label)}{who}")

        _emit(inc, as_json, render)

    @sub.command()
    def note(ref: Ref, text: Annotated[str, typer.Argument(help="The note")],
             kind: Annotated[str, typer.Option("--type", help="note, hypothesis, decision or finding")] = "note",
             tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
             as_json: Json = False) -> None:
        """Add a note, hypothesis, decision or finding to the timeline."""
        t = _backend(tracker, db, token, actor)
        _emit(t.note(ref, text, type=kind), as_json, lambda e: console.print(f"#{e.seq} {escape(e.summary)}"))

    @sub.command("ops-action")
    def ops_action(ref: Ref, action: Annotated[str, typer.Argument(help="rollback, flag, config, restart, scale, "
                                                                   "deploy")],
                   target: Annotated[str, typer.Option(help="What it was applied to")] = "",
                   param: Annotated[list[str] | None, typer.Option("--param", help="k=v (repeatable)")] = None,
                   result: Annotated[str | None, typer.Option(help="What happened")] = None,
                   tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
                   as_json: Json = False) -> None:
        """Record an ops action taken for this incident on its timeline."""
        params = {}
        for item in param or []:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise InputError(f"--param {item!r}: expected key=value")
            params[key] = value
        t = _backend(tracker, db, token, actor)
        event = t.ops_action(ref, action, target=target, params=params, result=result)
        _emit(event, as_json, lambda e: console.print(f"#{e.seq} {escape(e.summary)}"))

    @sub.command()
    def timeline(ref: Ref, since: Annotated[int | None, typer.Option(help="Only events after this seq")] = None,
                 tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
                 as_json: Json = False) -> None:
        """The incident's timeline (event kinds as in the run journal)."""
        t = _backend(tracker, db, token, actor)
        events = t.timeline(ref, since=since)
        _emit(events, as_json, lambda es: [console.print(
            f"{e.seq:>5} {_time(e.at)}  {e.kind:<24} {escape(e.summary)}  — {escape(e.actor)}") for e in es])

    @sub.command()
    def postmortem(ref: Ref,
                   set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
                   meeting: Annotated[str | None, typer.Option(help="Meeting date YYYY-MM-DD")] = None,
                   action: Annotated[str | None, typer.Option(help="Add an action item")] = None,
                   owner: Annotated[str, typer.Option(help="Owner of the new action item")] = "",
                   due: Annotated[str | None, typer.Option(help="Due date of the new action item")] = None,
                   kind: Annotated[str, typer.Option("--type", help="fix, monitoring, process, documentation, "
                                                     "training")] = "fix",
                   refresh: Annotated[bool, typer.Option("--refresh", help="Rewrite the timeline from the "
                                                         "incident")] = False,
                   markdown: Annotated[bool, typer.Option("--markdown", "--md", help="Print the Markdown")] = False,
                   check: Annotated[bool, typer.Option("--check", help="Exit 1 when sections are missing")] = False,
                   tracker: Tracker = None, db: Db = None, token: Token = None, actor: As = None,
                   as_json: Json = False) -> None:
        """Edit and check the post-mortem; --md prints it in the standard's template."""
        t = _backend(tracker, db, token, actor)
        changes: dict[str, Any] = {}
        for item in set_ or []:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise InputError(f"--set {item!r}: expected field=value")
            changes[_postmortem_key(key.strip())] = value.replace("\\n", "\n")
        if meeting is not None:
            changes["meeting_date"] = meeting
        if refresh:
            t.refresh_postmortem(ref)
        if changes:
            t.update_postmortem(ref, **changes)
        if action:
            t.add_action_item(ref, action, owner=owner, due_date=due, type=kind)
        if markdown and not as_json:
            typer.echo(t.postmortem_markdown(ref), nl=False)
            pm = t.postmortem(ref)
        else:
            pm = t.postmortem(ref)
            _emit(pm, as_json, _render_completeness)
        if check and not pm.completeness.complete:
            raise typer.Exit(1)

    app.add_typer(sub, name="incident")


def _render_completeness(pm: PostmortemOut) -> None:
    comp = pm.completeness
    console.print(f"[bold]{pm.incident}[/] post-mortem: {escape(pm.title)}")
    if comp.complete:
        console.print("[green]complete[/]: every section of the template is filled in")
    else:
        console.print(f"[red]{comp.missing_count} missing[/]")
        for section, problems in comp.missing.items():
            for p in problems:
                console.print(f"  {section}: {escape(p)}")
    for item in pm.action_items:
        due = item.due_date.isoformat() if item.due_date else "?"
        console.print(f"  action #{item.id} {escape('[' + item.type + ']')} {escape(item.action)} — "
                      f"{escape(item.owner or '?')} due {due} ({item.status})")

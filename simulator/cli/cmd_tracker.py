"""``gameday tracker serve|migrate|export|roster``: run and look after the incident tracker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from simulator.errors import InputError, ValidationFailed
from simulator.scenario.yamlpos import YamlProblem, load_yaml_file
from simulator.tracker import server
from simulator.tracker.db import Database, default_db
from simulator.tracker.migrations import current_revision
from simulator.tracker.service import TrackerService

console = Console(highlight=False)

DbOption = Annotated[str | None, typer.Option("--db", help="SQLite file or postgresql:// URL "
                                              "[default: $GAMEDAY_TRACKER_DB or .gameday/tracker.db]")]


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Run the incident tracker (web UI, REST API, alert ingestion).", no_args_is_help=True)

    @sub.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs --token")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port (0: let the OS choose)", min=0, max=65535)] = 8700,
        db: DbOption = None,
        token: Annotated[str | None, typer.Option(envvar="GAMEDAY_TRACKER_TOKEN",
                                                  help="Bearer token required by the API and the web UI")] = None,
        roster: Annotated[Path | None, typer.Option(help="YAML list of people: name, handle, team, oncall")] = None,
        run_id: Annotated[str | None, typer.Option(help="Stamp new incidents with this run id")] = None,
        exercise: Annotated[bool, typer.Option(help="Mark new incidents as an exercise")] = False,
    ) -> None:
        """Serve the tracker: board, incidents, post-mortems, API (docs at /api/docs)."""

        def ready(url: str, svc: TrackerService) -> None:
            if roster is not None:
                _load_roster(svc, roster)
            console.print(f"[bold]gameday tracker[/] on [link={url}]{url}[/link]  "
                          f"(database {escape(svc.db.describe())}; Ctrl-C to stop)")

        server.serve(db or default_db(), host=host, port=port, token=token, run_id=run_id, exercise=exercise,
                     on_ready=ready)

    @sub.command()
    def migrate(db: DbOption = None) -> None:
        """Create or upgrade the tracker database schema (done automatically on open)."""
        database = Database(db or default_db())
        with database.engine.connect() as conn:
            console.print(f"{escape(database.describe())}: schema at revision {current_revision(conn)}")
        database.close()

    @sub.command()
    def export(db: DbOption = None,
               run_id: Annotated[str | None, typer.Option(help="Only this run's incidents")] = None,
               out: Annotated[Path | None, typer.Option(help="Write here instead of stdout")] = None) -> None:
        """Incidents, timelines and post-mortems as JSON (what the scorer reads)."""
        svc = TrackerService(db or default_db())
        text = json.dumps(svc.export(run_id).model_dump(mode="json"), indent=2)
        svc.db.close()
        if out:
            out.write_text(text + "\n")
            console.print(f"wrote {escape(str(out))}")
        else:
            typer.echo(text)

    @sub.command("roster")
    def roster_cmd(file: Annotated[Path, typer.Argument(help="YAML list of people: name, handle, team, oncall")],
                   db: DbOption = None) -> None:
        """Load people and the on-call rotation (primary/secondary) into the tracker."""
        svc = TrackerService(db or default_db())
        count = _load_roster(svc, file)
        svc.db.close()
        console.print(f"{count} people on the roster")

    app.add_typer(sub, name="tracker")


def _load_roster(svc: TrackerService, path: Path) -> int:
    if not path.exists():
        raise InputError(f"{path}: no such roster file")
    try:
        data, _ = load_yaml_file(path)  # bounded, like every YAML input
    except YamlProblem as exc:
        raise ValidationFailed([exc.problem]) from None
    people = data.get("people", data) if isinstance(data, dict) else data
    if not isinstance(people, list):
        raise InputError(f"{path}: expected a list of people (name, handle, team, oncall)")
    for index, entry in enumerate(people):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not entry.get("name"):
            raise InputError(f"{path}: people[{index}]: each person needs a name")
        svc.upsert_person(str(entry["name"]), handle=entry.get("handle"), team=entry.get("team"),
                          oncall=entry.get("oncall"))
    return len(people)



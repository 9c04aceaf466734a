"""``gameday tracker serve|migrate|export|roster``: run and look after the incident tracker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from simulator.tracker.defaults import DEFAULT_PORT

if TYPE_CHECKING:
    from simulator.tracker.service import TrackerService

# The tracker's server, database and service are imported inside the commands (simulator/cli/__init__.py says why).
console = Console(highlight=False)

# escaped: Typer renders help as Rich markup, which would swallow "[default: ...]" as a tag
DbOption = Annotated[str | None, typer.Option("--db", help=escape("SQLite file or postgresql:// URL "
                                              "[default: $GAMEDAY_TRACKER_DB or .gameday/tracker.db]"))]


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Run the incident tracker (web UI, REST API, alert ingestion).", no_args_is_help=True)

    @sub.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs --token")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port (0: let the OS choose)", min=0, max=65535)] = DEFAULT_PORT,
        db: DbOption = None,
        token: Annotated[str | None, typer.Option(envvar="GAMEDAY_TRACKER_TOKEN",
                                                  help="Bearer token required by the API and the web UI")] = None,
        roster: Annotated[Path | None, typer.Option(help="Roster YAML: people, rotations, paging")] = None,
        page_webhook: Annotated[list[str] | None, typer.Option(
            "--page-webhook", help="POST every page here (repeatable; loopback only without --page-allow-remote)")
        ] = None,
        page_allow_remote: Annotated[bool, typer.Option(
            "--page-allow-remote", help="Allow paging webhooks to hosts other than loopback")] = False,
        run_id: Annotated[str | None, typer.Option(help="Stamp new incidents with this run id")] = None,
        exercise: Annotated[bool, typer.Option(help="Mark new incidents as an exercise")] = False,
    ) -> None:
        """Serve the tracker: board, incidents, post-mortems, API (docs at /api/docs)."""
        from simulator.tracker import server
        from simulator.tracker.db import default_db
        from simulator.tracker.roster import load_roster, shift_lines

        def ready(url: str, svc: TrackerService) -> None:
            if roster is not None:
                load_roster(svc, roster)
            if page_webhook:
                svc.set_paging(webhooks=page_webhook, allow_remote=page_allow_remote)
            console.print(f"[bold]gameday tracker[/] on [link={url}]{url}[/link]  "
                          f"(database {escape(svc.db.describe())}; Ctrl-C to stop)")
            for line in shift_lines(svc.on_call()):  # after the address: scripts read that first line
                console.print(escape(line), soft_wrap=True)

        server.serve(db or default_db(), host=host, port=port, token=token, run_id=run_id, exercise=exercise,
                     on_ready=ready)

    @sub.command()
    def migrate(db: DbOption = None) -> None:
        """Create or upgrade the tracker database schema (done automatically on open)."""
        from simulator.tracker.db import Database, default_db
        from simulator.tracker.migrations import current_revision

        database = Database(db or default_db())
        with database.engine.connect() as conn:
            console.print(f"{escape(database.describe())}: schema at revision {current_revision(conn)}")
        database.close()

    @sub.command()
    def export(db: DbOption = None,
               run_id: Annotated[str | None, typer.Option(help="Only this run's incidents")] = None,
               out: Annotated[Path | None, typer.Option(help="Write here instead of stdout")] = None) -> None:
        """Incidents, timelines and post-mortems as JSON (what the scorer reads)."""
        from simulator.tracker.db import default_db
        from simulator.tracker.service import TrackerService

        svc = TrackerService(db or default_db())
        text = json.dumps(svc.export(run_id).model_dump(mode="json"), indent=2)
        svc.db.close()
        if out:
            out.write_text(text + "\n")
            console.print(f"wrote {escape(str(out))}")
        else:
            typer.echo(text)

    @sub.command("roster")
    def roster_cmd(file: Annotated[Path, typer.Argument(help="Roster YAML: people, rotations, paging")],
                   db: DbOption = None) -> None:
        """Load people and the on-call rotation (primary/secondary) into the tracker."""
        from simulator.tracker.db import default_db
        from simulator.tracker.roster import load_roster, shift_lines
        from simulator.tracker.service import TrackerService

        svc = TrackerService(db or default_db())
        loaded = load_roster(svc, file)
        for line in shift_lines(svc.on_call()):
            console.print(escape(line), soft_wrap=True)
        svc.db.close()
        console.print(f"{loaded.people} people, {loaded.rotations} rotation(s), {loaded.webhooks} paging webhook(s)")

    @sub.command("oncall")
    def oncall_cmd(db: DbOption = None) -> None:
        """Who is on call now and next week, per rotation (the roster's fixed on-call when there is none)."""
        from simulator.tracker.db import default_db
        from simulator.tracker.roster import shift_lines
        from simulator.tracker.service import TrackerService

        svc = TrackerService(db or default_db())
        lines = shift_lines(svc.on_call())
        svc.db.close()
        for line in lines or ["nobody is on call: load a roster with rotations (gameday tracker roster FILE)"]:
            console.print(escape(line), soft_wrap=True)

    app.add_typer(sub, name="tracker")

"""The ``gameday`` command line: thin -- parse, call, render.

Every module in this package named ``cmd_*.py`` defines ``register(app)`` and adds its
commands or command groups; this module finds them, so each concept owns its own commands.
Errors from the library (``simulator.errors``) become one line on stderr and an exit code.

Every start of ``gameday`` (each command, each ``--help``) imports every ``cmd_*`` module, so those import
at their top only what declaring the commands needs (typer, rich, ``simulator.errors``, ``simulator.domain``,
``simulator.tracker.defaults``); a command imports what it runs (the runner, the tracker, the scorer...) inside
its function. tests/unit/cli/test_cli_startup.py holds the start to that; bench/cli_startup.py measures it.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer
from rich.console import Console
from rich.markup import escape

try:  # Typer 0.20+ carries its own click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover - older Typer uses click itself
    from click.exceptions import ClickException, NoArgsIsHelpError

from simulator.errors import GamedayError, ValidationFailed

app = typer.Typer(
    name="gameday",
    help="Chaos-engineering game days: real faults, real load, an incident tracker, scored responses.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


_registered: list[str] = []


def build_app() -> typer.Typer:
    """The app with every ``cmd_*`` module's commands registered (once)."""
    if not _registered:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.name.startswith("cmd_"):
                importlib.import_module(f"{__name__}.{info.name}").register(app)
                _registered.append(info.name)
    return app


def report_error(error: GamedayError) -> None:
    lines = error.lines() if isinstance(error, ValidationFailed) else [str(error)]
    for line in lines:
        err_console.print(f"[bold red]error:[/] {escape(line)}", markup=True, highlight=False)


def usage_line(error: ClickException) -> str:
    """Click's and Typer's bad-input errors (a bad ``--port``, a missing argument) as the one line every other
    bad input gets, naming the command and where its help is, instead of Rich's four-line box."""
    ctx = getattr(error, "ctx", None)
    where = f"{ctx.command_path}: " if ctx is not None else ""
    see = f" (see {ctx.command_path} --help)" if ctx is not None else ""
    return f"{where}{error.format_message()}{see}".replace("\n", " ")


def main() -> None:
    build_app()
    try:
        code = app(prog_name="gameday", standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(n), returned (not raised) without standalone mode
            if code == 130:
                err_console.print("interrupted")
            sys.exit(code)
    except NoArgsIsHelpError as error:  # the help is printed already
        sys.exit(error.exit_code)
    except ClickException as error:
        err_console.print(f"[bold red]error:[/] {escape(usage_line(error))}", markup=True, highlight=False)
        sys.exit(error.exit_code)
    except BrokenPipeError:  # `gameday ... | head`: the reader left; nothing more to say (as click's own main)
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - interpreter shutdown must not flush into the pipe
        sys.exit(1)
    except typer.Abort:
        err_console.print("interrupted")
        sys.exit(130)
    except GamedayError as error:
        report_error(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as error:  # a bug of ours: one line, and the traceback on request
        if os.environ.get("GAMEDAY_DEBUG"):
            raise
        err_console.print(f"[bold red]internal error:[/] {escape(type(error).__name__)}: {escape(str(error))} "
                          "(set GAMEDAY_DEBUG=1 for the traceback, and please report it)")
        sys.exit(1)

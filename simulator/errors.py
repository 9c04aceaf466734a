"""The exception hierarchy every part of gameday shares.

Each error carries the exit code the CLI uses (DESIGN.md, "Exit codes"):

* ``InputError`` (2): bad input -- a malformed scenario, a wrong flag value, a bad fault
  parameter. Its message is one line, naming file, line, column and key where known.
* ``EnvironmentProblem`` (3): something about the machine -- no Docker engine, a port taken --
  with the fix in the message.
* ``CheckFailed`` (1): a resilience check or drill did not hold.

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``; no traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class GamedayError(Exception):
    """Base class: anything the CLI reports as one line and an exit code."""

    exit_code: int = 1


class CheckFailed(GamedayError):
    exit_code = 1


class InputError(GamedayError):
    """Bad input. ``str()`` is the one-line message users see."""

    exit_code = 2


class EnvironmentProblem(GamedayError):
    """The environment is not fit to run (no engine, port taken). Say how to fix it."""

    exit_code = 3


class NotFound(InputError):
    """A named thing (run, target, fault, incident) does not exist."""


class Conflict(GamedayError):
    """An operation is not legal in the current state (e.g. resolve a closed incident)."""

    exit_code = 2


class SafetyViolation(InputError):
    """A fault or load aimed at something gameday may not touch."""


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file: ``file:line:col: path: message``."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return text.replace("\r", "\\r").replace("\n", "\\n")


class ValidationFailed(InputError):
    """One or more located problems in one input file. ``str()`` is the first; all are kept."""

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("ValidationFailed needs at least one problem")
        self.problems = problems
        super().__init__(str(problems[0]))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

"""Helpers shared by tests in different folders, imported as ``tests.helpers.<module>``.

The repository root is on ``sys.path`` for pytest (``pythonpath = ["."]`` in pyproject.toml), so no
test needs ``sys.path.insert``. A helper used by one folder only stays in that folder.

* ``proxy``: the fault proxy on a thread or as a process.
* ``scoring_kit``: hand-built run folders (journal + tracker) for scoring and report tests.
* ``facilitator_run``: a game day held for its facilitator, on a thread (drill and browser tests).
* ``runhelpers``: the run tests' process checks and ``gameday cleanup`` (run and drill tests).
* ``tracker_samples``: real-format Alertmanager and PagerDuty payloads.
* ``load_stub``: a loopback HTTP target with programmable faults (run as a script; also ``bench/``).
"""

"""Helpers shared by tests in different folders, imported as ``tests.helpers.<module>``.

The repository root is on ``sys.path`` for pytest (``pythonpath = ["."]`` in pyproject.toml), so no
test needs ``sys.path.insert``. A helper used by one folder only stays in that folder.
"""

"""The drill tests' helpers (``facilitator_run``) are imported from this folder; ``gameday_home`` is in
tests/integration/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

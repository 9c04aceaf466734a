"""Small modules: one above 500 lines says why on its first line (``# Size: ...``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 500


def oversized(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "simulator").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > LIMIT and not (lines[0].startswith("# Size: ") and len(lines[0]) > len("# Size: ") + 20):
            found.append(f"{path.relative_to(root)}: {len(lines)} lines")
    return found


def test_large_modules_say_why() -> None:
    assert oversized(ROOT) == []


def test_the_rule_catches_a_silent_large_module(tmp_path: Path) -> None:
    (tmp_path / "simulator").mkdir()
    (tmp_path / "simulator" / "big.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "simulator" / "said.py").write_text("# Size: one table of the standard, row by row, kept whole.\n"
                                                    + "x = 1\n" * LIMIT)
    (tmp_path / "simulator" / "small.py").write_text("x = 1\n" * LIMIT)
    assert oversized(tmp_path) == [f"simulator/big.py: {LIMIT + 1} lines"]

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.journal import EVENT_KINDS, Journal, read_events, vocabulary_markdown


def test_write_and_read(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "r1" / "journal.jsonl"
    with Journal(path, game_time=lambda: 12.5) as j:
        j.write("run.started", scenario="x")
        j.write("fault.injected", id="f1", kind="app.release")
    events = read_events(path)
    assert [e.kind for e in events] == ["run.started", "fault.injected"]
    assert [e.seq for e in events] == [1, 2]
    assert events[1].game == 12.5 and events[1].data["id"] == "f1"
    assert read_events(path, "fault.")[0].kind == "fault.injected"


def test_unknown_kind_refused(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.jsonl") as j, pytest.raises(ValueError, match="unknown journal event kind"):
        j.write("made.up")


def test_append_continues_sequence(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.write("run.started")
    with Journal(path) as j:
        assert j.write("run.finished").seq == 2


def test_torn_last_line_skipped(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.write("run.started")
    with open(path, "a") as fh:
        fh.write('{"seq": 2, "wall": 1, "ki')
    assert [e.kind for e in read_events(path)] == ["run.started"]


def test_killed_writer_leaves_readable_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    code = (
        "import sys, time\n"
        "from simulator.journal import Journal\n"
        f"j = Journal({str(path)!r})\n"
        "for i in range(5):\n"
        "    j.write('sample', i=i)\n"
        "print('written', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert [e.data["i"] for e in read_events(path)] == [0, 1, 2, 3, 4]


def test_vocabulary_documented() -> None:
    doc = vocabulary_markdown()
    written = Path(__file__).resolve().parents[3] / "docs" / "journal.md"
    assert written.read_text(encoding="utf-8") == doc, "regenerate docs/journal.md from vocabulary_markdown()"
    assert all(f"`{k}`" in doc for k in EVENT_KINDS)
    assert all(k.count(".") >= 1 or k == "sample" for k in EVENT_KINDS)

"""The bounded readers on real files: size cap, regular files only, strict JSON, depth without recursion."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.bounded import MAX_DEPTH, DamagedFile, deeper_than, load_json, read_bytes
from simulator.errors import InputError
from simulator.journal import read_events


def test_reads_at_most_the_limit_plus_one_byte(tmp_path: Path) -> None:
    f = tmp_path / "f.json"
    f.write_bytes(b"x" * 100)
    assert read_bytes(f, 100) == b"x" * 100
    with pytest.raises(DamagedFile, match="larger than"):
        read_bytes(f, 99)


@pytest.mark.parametrize("make", ["dev-zero", "fifo"])
def test_devices_and_fifos_are_refused_without_blocking(tmp_path: Path, make: str) -> None:
    f = tmp_path / "f.json"
    if make == "dev-zero":
        f.symlink_to("/dev/zero")
    else:
        os.mkfifo(f)  # opening it for reading would wait for a writer forever without O_NONBLOCK
    with pytest.raises(DamagedFile, match="not a regular file"):
        load_json(f)


def test_damage_is_an_input_error_and_a_value_error(tmp_path: Path) -> None:
    f = tmp_path / "f.json"
    f.write_text('{"wall": NaN}')
    with pytest.raises(InputError, match="not valid JSON"):
        load_json(f)
    with pytest.raises(ValueError):
        load_json(f)


def test_depth_is_measured_without_recursion_and_ignores_brackets_in_strings() -> None:
    assert deeper_than("[" * 100_000 + "]" * 100_000, MAX_DEPTH)
    assert not deeper_than('{"a": "' + "[" * 500 + '"}', MAX_DEPTH)
    assert not deeper_than('{"a": "\\"[[[[", "b": [[1]]}', 3)
    assert deeper_than("[[[1]]]", 2)


def test_a_damaged_journal_line_is_skipped_with_one_warning(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    j = tmp_path / "journal.jsonl"
    good = '{"seq":1,"wall":1.5,"game":null,"kind":"run.started","data":{}}'
    j.write_text("\n".join([good, '{"seq":2,"wall":NaN,"game":1,"kind":"x","data":{}}',
                            '{"seq":"3","wall":1,"game":1,"kind":"x"}', good.replace('"seq":1', '"seq":4')]) + "\n"
                 + '{"seq":5,"wa')  # a torn last line: skipped silently
    assert [e.seq for e in read_events(j)] == [1, 4]
    assert [e.seq for e in read_events(j)] == [1, 4]
    err = capsys.readouterr().err.splitlines()
    assert err == [f"warning: {j}: skipped 2 damaged line(s): line 2: not valid JSON (NaN is not a number JSON "
                   "allows) (and 1 more)"]

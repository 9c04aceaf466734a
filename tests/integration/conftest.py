"""Fixtures every integration package may use (a package's own conftest may override one by name).

* ``gameday_home``: a private run registry for one test, and afterwards: ``cleanup`` of everything,
  and a failure naming any process of the test still running.
* ``postgres_url``: a throwaway PostgreSQL on 127.0.0.1 for the session (or ``GAMEDAY_TEST_POSTGRES_URL``);
  skips, with the reason, when none can run here.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

os.environ.setdefault("GAMEDAY_TEST", "1")


@pytest.fixture
def gameday_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private run registry, and afterwards: nothing of ours left running."""
    home = tmp_path / "home"
    monkeypatch.setenv("GAMEDAY_HOME", str(home))
    before = {p.pid for p in psutil.process_iter()}
    yield home
    from simulator.cleanup import cleanup

    cleanup(everything=True)
    leftovers = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if p.info["pid"] not in before and str(tmp_path) in cmd:
            leftovers.append(cmd)
            p.kill()
    assert not leftovers, f"processes left running: {leftovers}"


def _pg_binary(name: str) -> str | None:
    import glob
    import shutil

    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL on 127.0.0.1 (or ``GAMEDAY_TEST_POSTGRES_URL``); skips when none can run."""
    import pwd
    import shutil
    import tempfile

    given = os.environ.get("GAMEDAY_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'gameday[postgres]')")
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on this machine (apt-get install postgresql)")
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as the postgres user
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL")
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        prefix = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="gameday-pg-"))
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data = base / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = {"capture_output": True, "text": True, "timeout": 120}
    try:
        init = subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "gameday", "-E", "UTF8"],
                              **run)
        if init.returncode != 0:
            pytest.skip(f"initdb failed: {init.stderr.strip()[-300:]}")
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start"], **run
        )
        if started.returncode != 0:
            pytest.skip(f"PostgreSQL did not start: {started.stderr.strip()[-300:]}")
        try:
            yield f"postgresql+psycopg://gameday@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], **run)
    finally:
        shutil.rmtree(base, ignore_errors=True)

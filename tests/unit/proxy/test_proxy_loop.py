"""The proxy's event loop and relay choices: uvloop when installed, asyncio's own loop when it is not."""

from __future__ import annotations

import asyncio
import sys

import pytest

from simulator.errors import InputError
from simulator.proxy.runtime import ProxyService, loop_factory


def test_auto_uses_uvloop_when_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    factory = loop_factory("auto")
    assert factory is uvloop.new_event_loop
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_without_uvloop_auto_falls_back_to_asyncio_and_uvloop_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError, as when absent
    assert loop_factory("auto") is None
    with asyncio.Runner(loop_factory=loop_factory("auto")) as runner:
        assert runner.run(asyncio.sleep(0, "ran")) == "ran"
    with pytest.raises(InputError, match="uvloop is not installed"):
        loop_factory("uvloop")


def test_asyncio_is_asyncio_and_unknown_names_are_refused() -> None:
    assert loop_factory("asyncio") is None
    with pytest.raises(InputError, match="--loop: expected one of auto, uvloop, asyncio"):
        loop_factory("trio")
    with pytest.raises(InputError, match="--relay: expected one of splice, copy"):
        ProxyService(relay="sendfile")

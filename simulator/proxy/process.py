"""Start the fault proxy as its own process (``python -m simulator.proxy``): how a run's supervisor
(local or docker) gets its proxies, so shipped code names the module and its arguments in one place.

``start_proxy`` returns once the control API accepts requests (``simulator.procs.start_listening``);
the caller owns the process and stops it with ``simulator.procs.stop_process``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from simulator.procs import Child, start_listening


def start_proxy(log_path: Path, *, seed: int | None = None, control_port: int = 0, config: str | Path | None = None,
                timeout: float = 30.0, die_with_parent: bool = True, extra_args: Sequence[str] = ()) -> Child:
    """The proxy server on 127.0.0.1 (``control_port`` 0: the OS picks); its stderr goes to ``log_path``.
    ``extra_args`` are added to its command line (``--loop``, ``--relay``: the bench compares them).
    Raises ``EnvironmentProblem`` with the server's own last lines if it does not come up."""
    args = ["-m", "simulator.proxy", "--control-port", str(control_port), *extra_args]
    if seed is not None:
        args += ["--seed", str(seed)]
    if config is not None:
        args += ["--config", str(config)]
    return start_listening(args, log_path, timeout, env={"PYTHONUNBUFFERED": "1"}, die_with_parent=die_with_parent)


def control_url(proxy: Child) -> str:
    """The control API of a proxy ``start_proxy`` started (what ``ProxyClient`` takes)."""
    return f"http://127.0.0.1:{proxy.port}"

"""Process stats by pid (psutil): the target process and its descendants, as one unit.

``rss_bytes`` and ``cpu_percent`` are summed over the process and its children (a target started
through a wrapper still shows its real footprint); ``cpu_percent`` is since the previous call
(the first call for a process reads 0). ``stopped`` is 1 while the process is SIGSTOPped. A pid
that is gone (or a zombie) reads ``{"alive": 0}``.
"""

from __future__ import annotations

import contextlib

import psutil


class ProcessSampler:
    def __init__(self) -> None:
        # root pid -> {pid: Process} (kept so cpu_percent measures since the previous call)
        self._procs: dict[int, dict[int, psutil.Process]] = {}

    @staticmethod
    def _cached(cache: dict[int, psutil.Process], pid: int) -> psutil.Process:
        proc = cache.get(pid)
        if proc is None or not proc.is_running():
            proc = psutil.Process(pid)
        return proc

    def sample(self, pid: int | None) -> dict[str, float]:
        if pid is None:
            return {}
        cache = self._procs.get(pid, {})
        fresh: dict[int, psutil.Process] = {}
        try:
            root = self._cached(cache, pid)
            with root.oneshot():
                status = root.status()
                if status == psutil.STATUS_ZOMBIE:
                    self._procs.pop(pid, None)
                    return {"alive": 0.0}
                stats = {"alive": 1.0, "rss_bytes": float(root.memory_info().rss),
                         "cpu_percent": root.cpu_percent(interval=None), "num_threads": float(root.num_threads()),
                         "stopped": float(status == psutil.STATUS_STOPPED)}
                with contextlib.suppress(AttributeError, psutil.Error):
                    stats["num_fds"] = float(root.num_fds())
            fresh[pid] = root
            children = root.children(recursive=True)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            self._procs.pop(pid, None)
            return {"alive": 0.0}
        except psutil.AccessDenied:
            return {"alive": 1.0}
        for child in children:
            try:
                proc = self._cached(cache, child.pid)
                stats["rss_bytes"] += proc.memory_info().rss
                stats["cpu_percent"] += proc.cpu_percent(interval=None)
                fresh[child.pid] = proc
            except psutil.Error:
                continue
        stats["num_procs"] = float(len(fresh))
        self._procs[pid] = fresh
        return stats

    def forget(self, pid: int) -> None:
        self._procs.pop(pid, None)

"""A proxy's counters: connections, bytes per direction, upstream errors (``GET /proxies/{name}/stats``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ProxyStats:
    connections_total: int = 0
    upstream_errors: int = 0
    _bytes: dict[str, list[int]] = field(default_factory=lambda: {"upstream": [0], "downstream": [0]})

    def counter(self, stream: str) -> list[int]:
        """The shared one-cell counter links add their bytes to."""
        return self._bytes[stream]

    def to_json(self, active: int) -> dict[str, int]:
        return {
            "connections_active": active,
            "connections_total": self.connections_total,
            "bytes_upstream": self._bytes["upstream"][0],
            "bytes_downstream": self._bytes["downstream"][0],
            "upstream_errors": self.upstream_errors,
        }

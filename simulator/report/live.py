"""The live run dashboard (rich Live) and its plain-text twin for logs and CI.

Shows the phase and game clock, per target the true request rate (attempts per second, retries
included, beside the original requests per second; a service the load reaches only through another
is read from its own ``/metrics``) and the error split (2xx / 429 / 5xx) as sparklines, p95 latency
and the service's key gauge, active faults, and alert states. Every ops action and incident step
(the automated responder's or a person's) is printed as it lands in the run journal.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from simulator.durations import format_duration
from simulator.report.series import Traffic, interval, traffic_of
from simulator.report.timeline import describe
from simulator.rundir import RunDir

BARS = "▁▂▃▄▅▆▇█"
KEY_GAUGE = {"payments": ("db_pool_checked_out", "pool"), "auth": ("process_resident_memory_bytes", "rss"),
             "gateway": ("app_config_version", "config v")}


def sparkline(values: list[float], width: int = 30) -> str:
    values = values[-width:]
    if not values:
        return ""
    top = max(values) or 1.0
    return "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1)))] for v in values)


def _history(series: Any, target: str, metric: str, last: int = 30) -> list[float]:
    if series is None:
        return []
    try:
        return [v for _, v in series.history(target, metric, last=last)]
    except Exception:  # noqa: BLE001 - a dashboard never breaks a run
        return []


def _last(series: Any, target: str, metric: str, fallback: Any) -> Any:
    """The latest value of a metric (an interval without load lines has none of its own)."""
    if fallback is not None or series is None:
        return fallback
    try:
        point = series.latest(target, metric)
    except Exception:  # noqa: BLE001
        return fallback
    return point[1] if point else fallback


def _fmt_bytes(v: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(v) < 1024:
            return f"{v:.0f}{unit}"
        v /= 1024
    return f"{v:.1f}TiB"


def rate_text(t: Traffic | None) -> str:
    """The true request rate: "24 att/s (0 req/s)" from the load generator (attempts, retries
    included, and the original requests), "110 rps served" from the target's own /metrics."""
    if t is None:
        return "-"
    if t.source == "metrics":
        return f"{t.attempts:.0f} rps served"
    return f"{t.attempts:.0f} att/s ({t.original or 0:.0f} req/s)"


class RateMeter:
    """Each target's request rates from consecutive samples (one interval's counts over its wall seconds)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, Traffic | None]] = {}

    def update(self, targets: dict[str, Any]) -> dict[str, Traffic | None]:
        out: dict[str, Traffic | None] = {}
        for name, s in targets.items():
            if not s:
                continue
            wall = float(s.get("wall") or 0.0)
            last = self._last.get(name)
            if last is None or last[0] != wall:  # a new sample
                last = (wall, traffic_of(s, interval(last[0] if last is not None else None, wall)))
                self._last[name] = last
            out[name] = last[1]
        return out


#: Journal kinds the console echoes as they happen: what the responder (or a person) did.
ACTION_PREFIXES = ("ops.", "incident.", "postmortem.")


class ActionFeed:
    """Follows a run journal and returns the new ops / incident / post-mortem events as console lines."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self._partial = b""

    def poll(self) -> list[str]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read(1 << 20)
        except OSError:
            return []
        self.offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an unfinished last line waits for the next poll
        out = []
        for line in lines:
            try:
                e = json.loads(line)
                kind, d = str(e.get("kind") or ""), e.get("data") or {}
            except (ValueError, AttributeError):
                continue
            if not kind.startswith(ACTION_PREFIXES) or not isinstance(d, dict):
                continue
            game = e.get("game")
            when = f"[game {format_duration(game)}] " if isinstance(game, int | float) and game >= 0 else ""
            text, actor = describe(kind, d), str(d.get("actor") or "")
            who = f"{actor} ▸ " if actor and actor not in text else ""
            line = f"{when}{who}{text}"
            out.append(line if len(line) <= 240 else line[:239] + "…")
        return out


def render(snap: dict[str, Any]) -> Group:
    head = Text.assemble(
        (f"{snap['title']}", "bold"), "  ", (f"[{snap['phase']}]", "bold cyan"), "  game ",
        (format_duration(snap["game"]), "bold"), f" / {format_duration(snap['max_duration'])}",
        f"  (×{snap['time_scale']:g}, wall {format_duration(snap['wall'])})  ",
        ("steady ✔" if snap["steady"] else "steady ✘" if snap["steady"] is False else "steady …",
         "green" if snap["steady"] else "red" if snap["steady"] is False else "dim"))
    table = Table(expand=True, header_style="bold")
    for col in ("target", "attempts/s (requests/s)", "2xx / 429 / 5xx", "avail", "p95", "gauge"):
        table.add_column(col, no_wrap=True)
    series = snap.get("series")
    for name, s in (snap.get("targets") or {}).items():
        if not s:
            table.add_row(name, "…", "", "", "", "")
            continue
        rps = _history(series, name, "requests")  # attempts per interval: retries included
        r429 = _history(series, name, "rejected")
        r5xx = _history(series, name, "failed")
        avail = _last(series, name, "availability", s.get("availability"))
        p95 = _last(series, name, "p95_ms", s.get("p95_ms"))
        gauges = s.get("gauges") or {}
        gname, glabel = next(((g, lbl) for app, (g, lbl) in KEY_GAUGE.items() if g in gauges), (None, ""))
        gval = gauges.get(gname) if gname else None
        gtext = "" if gval is None else f"{glabel} {_fmt_bytes(gval) if 'bytes' in (gname or '') else f'{gval:g}'}"
        split = Text.assemble((sparkline(rps, 12), "green"), " ", (sparkline(r429, 8), "yellow"), " ",
                              (sparkline(r5xx, 8), "red"))
        table.add_row(name, rate_text((snap.get("rates") or {}).get(name)), split,
                      "" if avail is None else Text(f"{avail * 100:.2f}%", style="green" if avail > 0.99 else "red"),
                      "" if p95 is None else f"{p95:.0f} ms", gtext)
    faults = Table.grid(padding=(0, 2))
    for f in snap["faults"]:
        state = ("reverted" if f["reverted_game"] is not None else "ACTIVE" if f["injected_game"] is not None
                 else "failed" if f["error"] else f"at {format_duration(f['at'])}")
        faults.add_row(Text(state, style="bold red" if state == "ACTIVE" else "dim"), f["id"],
                       f"{f['kind']} → {f['target']}")
    alerts = Table.grid(padding=(0, 2))
    for a in snap["alerts"]:
        state = str(getattr(a["state"], "value", a["state"]))
        if state == "inactive":
            continue
        alerts.add_row(Text(state.upper(), style={"firing": "bold red", "pending": "yellow"}.get(state, "green")),
                       a["alertname"], a["target"], "" if a["value"] is None else f"{a['value']:.4g}")
    parts: list[Any] = [head, table, Panel(faults, title="faults", title_align="left")]
    parts.append(Panel(alerts if alerts.row_count else Text("no alerts", style="dim"), title="alerts",
                       title_align="left"))
    if snap.get("incident"):
        parts.append(Panel(Text(snap["incident"]), title="incident", title_align="left"))
    return Group(*parts)


class Dashboard:
    """Live dashboard on a TTY; otherwise a line per event and a status line every ``every`` seconds."""

    def __init__(self, console: Console | None = None, live: bool | None = None, every: float = 5.0):
        self.console = console or Console(stderr=True)
        self.live_enabled = self.console.is_terminal if live is None else live
        self.every = every
        self._live: Live | None = None
        self._last_line = 0.0
        self._last_render = 0.0
        self._meter = RateMeter()
        self._feed: ActionFeed | None = None

    def __enter__(self) -> Dashboard:
        if self.live_enabled:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def event(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        if self._live is not None:
            self._live.console.print(f"[dim]{stamp}[/] {text}", highlight=False)
        else:
            print(f"{stamp} {text}", file=sys.stderr, flush=True)

    def update(self, snap: dict[str, Any]) -> None:
        now = time.monotonic()
        snap = {**snap, "rates": self._meter.update(snap.get("targets") or {})}
        if snap.get("run_dir"):
            if self._feed is None:
                self._feed = ActionFeed(RunDir(snap["run_dir"]).journal)
            for line in self._feed.poll():
                self.event(line)
        if self._live is not None:
            if now - self._last_render >= 0.25:
                self._last_render = now
                self._live.update(render(snap))
        elif now - self._last_line >= self.every:
            self._last_line = now
            parts = [f"[{snap['phase']}] game {format_duration(snap['game'])}"]
            for name, s in (snap.get("targets") or {}).items():
                if s:
                    avail, p95 = s.get("availability"), s.get("p95_ms")
                    parts.append(f"{name}: {rate_text(snap['rates'].get(name))}, "
                                 f"avail {'-' if avail is None else f'{avail * 100:.1f}%'}, "
                                 f"p95 {'-' if p95 is None else f'{p95:.0f}ms'}")  # no figure is not 0
            firing = [a["alertname"] for a in snap["alerts"]
                      if str(getattr(a["state"], "value", a["state"])) == "firing"]
            if firing:
                parts.append("firing: " + ", ".join(firing))
            print(" | ".join(parts), file=sys.stderr, flush=True)

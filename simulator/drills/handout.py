"""The facilitator handout (``gameday drill print DRILL [--html]``): the whole drill on paper.

Markdown first; HTML is the same document converted by a small renderer that knows the few
constructs used here (headings, tables, lists, fenced blocks, paragraphs), with the tabletop's
dashboard snapshots embedded as inline SVG.
"""

from __future__ import annotations

import html as H
import re
from pathlib import Path

from simulator.domain.rating import RATING_TEXT, RATINGS
from simulator.drills.humantime import MIN_WALL_SECONDS, human_targets, part_timings, scoring_config
from simulator.drills.model import CAPABILITY_NAMES, Drill
from simulator.drills.roster import build_roster, roster_markdown
from simulator.drills.snapshots import log_excerpt, snapshot_svg, snapshot_text
from simulator.drills.verdict import pass_rule
from simulator.durations import format_duration
from simulator.errors import GamedayError
from simulator.scoring.config import default_config


def _at(seconds: float) -> str:
    return format_duration(seconds) if seconds else "0s"


_SVG_MARK = "<!--svg:{}-->"


def _expected(ex) -> str:
    extra = []
    if ex.severity:
        extra.append(ex.severity)
    if ex.role:
        extra.append(ex.role)
    if ex.item:
        extra.append(f"checklist: {ex.item}")
    if ex.any_of:
        extra.append("any of " + ", ".join(ex.any_of))
    if ex.contains:
        extra.append("mentions " + " / ".join(ex.contains))
    detail = f" ({'; '.join(extra)})" if extra else ""
    return f"{ex.text or ex.do}{detail} — *{CAPABILITY_NAMES[ex.cap].split(' (')[0]}, {ex.points} pt*"


def _too_short(wall_seconds: float) -> str:
    return f" (under {format_duration(MIN_WALL_SECONDS)}: no team can)" if wall_seconds < MIN_WALL_SECONDS else ""


def human_time_markdown(drill: Drill, base: Path | None) -> list[str]:
    """Each part's length in wall time, and every target people are held to, in wall time."""
    try:
        cfg = scoring_config(drill, base)
        timings, targets = part_timings(drill, base), human_targets(drill, base, cfg)
    except GamedayError as exc:
        return ["## Time", "", f"*Times unavailable: {exc}*", ""]
    out = ["## Time (wall clock)", "",
           "The fault's physics run at each part's time scale; people do not. When people play a part "
           f"(responder human or none) the targets of their actions are judged on the {cfg.people.describe()}"
           f" (targets: {', '.join(cfg.people.targets)}); an automated responder is judged on the {cfg.clock} "
           "clock (its runbook is written in game time).", "",
           "| part | responder | time scale | length (game) | length (wall, at most) | starts after (wall) |",
           "|---|---|---|---|---|---|"]
    out += [f"| {t.part} | {t.responder} | ×{t.time_scale:g} | {format_duration(t.game_seconds)} | "
            f"{format_duration(t.wall_seconds)} | {_at(t.start_after)} |" for t in timings]
    out.append("")
    if targets:
        out += ["Targets people are held to, in wall time (the part ends sooner once every incident is resolved):",
                "", "| part | team | target | severity | wall time | judged as | source |",
                "|---|---|---|---|---|---|---|"]
        out += [f"| {t.part} | {t.team or '-'} | {t.text} | {t.severity or '-'} | "
                f"**{format_duration(t.wall_seconds)}**{_too_short(t.wall_seconds)} | "
                f"{format_duration(t.seconds)} {t.clock} time | "
                f"{t.basis.replace('|', '/')} |" for t in targets]
        out.append("")
    return out


def handout_markdown(drill: Drill, base: Path | None = None, svg_marks: bool = False) -> str:
    m = drill.metadata
    out = [f"# {m.title}", "", f"Facilitator handout · drill `{m.name}` · type **{m.type}** · seed {drill.seed}", ""]
    if m.description:
        out += [m.description.strip(), ""]
    if drill.briefing:
        out += ["## Briefing (read to the players)", "", drill.briefing.strip(), ""]
    if drill.facilitator_notes:
        out += ["## Facilitator notes (do not share)", "", drill.facilitator_notes.strip(), ""]
    out += ["## Teams and roster", "", roster_markdown(build_roster(drill))]
    if drill.schedule:
        out += ["## Schedule", "", "| at | what | length |", "|---|---|---|"]
        out += [f"| {s.at} | {s.what} | {format_duration(s.duration) if s.duration else ''} |" for s in drill.schedule]
        out.append("")
    if drill.scenarios:
        out += ["## Scenarios", "", "| # | scenario | team | responder | time scale | max duration | load |",
                "|---|---|---|---|---|---|---|"]
        for i, r in enumerate(drill.scenarios, 1):
            load = ", ".join(x for x in (f"{r.users} users" if r.users else "",
                                         f"{r.workers} Locust workers" if r.workers else "",
                                         f"starts after {format_duration(r.start_after)}" if r.start_after else "")
                             if x) or "(scenario)"
            out.append(f"| {i} | {r.name} | {r.team or '-'} | {r.responder or drill.responder} | "
                       f"{r.time_scale or '(scenario)'} | "
                       f"{format_duration(r.max_duration) if r.max_duration else '(scenario)'} | {load} |")
        out.append("")
        if drill.shared_targets:
            out += ["**Shared services**: every team works on one set of services (payments, gateway, ...), "
                    "so one team's incident and mitigation reach the others' services. Each team's monitor "
                    "watches its own services.", ""]
        if drill.start == "facilitator":
            out += ["**Start**: each scenario comes up and waits; nothing moves until the facilitator types "
                    "`start` or presses **Start scenario** on the facilitator page.", ""]
        for r in drill.scenarios:
            if r.checks:
                out += [f"Checks for **{r.name}**:", ""] + [f"- {c.label()}" for c in r.checks] + [""]
            if r.red_herrings:
                out += [f"Red herrings for **{r.name}** (console: `herring`):", ""]
                out += [f"- {h.kind} → {h.target} {h.params or ''} {h.note}" for h in r.red_herrings] + [""]
        if drill.metadata.type == "game-day":
            out += ["Facilitator console commands during a game day: `start`, `pause`, `resume`, `next` (inject "
                    "the next "
                "fault now), `herring` (inject a red herring now), `extend 10m`, `abort` (everything is rolled "
                    "back), `status`.", ""]
    if drill.tabletop is not None:
        tt = drill.tabletop
        out += ["## Ground truth (facilitator only)", "", f"- Severity: **{tt.truth.severity}**"]
        if tt.truth.root_cause:
            out.append(f"- Root cause: {tt.truth.root_cause}")
        if tt.truth.accepted_mitigations:
            out.append(f"- Accepted mitigations: {', '.join(tt.truth.accepted_mitigations)}")
        out += ["", "## Master Scenario Events List", "", "| at | id | kind | from | inject |", "|---|---|---|---|---|"]
        out += [f"| {_at(i.at)} | {i.id} | {i.kind} | {i.source} | {i.title} |" for i in tt.injects]
        out.append("")
        for inj in tt.injects:
            out += [f"### {_at(inj.at)} · {inj.title}", "", f"*{inj.kind}* from {inj.source or '-'} "
                    f"(`{inj.id}`)", ""]
            if inj.text:
                out += [f"> {inj.text.strip()}", ""]
            if inj.alert:
                a = inj.alert
                out += [f"Synthetic alert into the tracker: **{a.name}** ({a.severity}) on {a.service}: "
                        f"{a.summary}", ""]
            if inj.snapshot:
                out += ["```", snapshot_text(inj.snapshot, drill.seed), "```", ""]
                if svg_marks:
                    out += [_SVG_MARK.format(inj.id), ""]
            if inj.log_lines:
                out += ["```", log_excerpt(inj), "```", ""]
            if inj.expected:
                out += ["Expected player actions:", ""] + [f"- {_expected(e)}" for e in inj.expected] + [""]
            if inj.facilitator:
                out += [f"*Facilitator:* {inj.facilitator}", ""]
        out += ["## Scoring rubric", "",
                "Each expected action is looked up in the tracker after the exercise. Per capability, the share "
                "of points earned gives a rating (HSEEP's):", "", "| rating | share | meaning |", "|---|---|---|"]
        floors = default_config().hseep.floors()
        for r in RATINGS:
            share = f"≥ {floors[r]:.0%}" if r in floors else f"< {min(floors.values()):.0%}"
            out.append(f"| {r} | {share.replace('%', ' %')} | {RATING_TEXT[r]} |")
        out.append("")
    if drill.scenarios:
        out += human_time_markdown(drill, base)
    sc = drill.scoring
    out += ["## Scoring configuration", "", f"- automated responder and monitoring: {sc.clock} clock; time-scale "
            f"factor on their targets ×{sc.time_scale_factor:g}" + (f"; pass score {sc.pass_score:g}"
                                                                  if sc.pass_score else ""), ""]
    if drill.metadata.type != "ci":
        out += ["## What makes this drill pass", "", pass_rule(drill), ""]
    if drill.debrief:
        out += ["## Debrief", "", drill.debrief.strip(), ""]
    return "\n".join(out).rstrip() + "\n"


def _inline(text: str) -> str:
    t = H.escape(text)
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    t = re.sub(r"\*(.+?)\*", r"<em>\1</em>", t)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", t)


def markdown_to_html(md: str, svgs: dict[str, str] | None = None, title: str = "") -> str:
    lines = md.splitlines()
    body: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"<!--svg:(.+)-->$", line)
        if m and svgs and m.group(1) in svgs:
            body.append(f'<figure>{svgs[m.group(1)]}</figure>')
        elif line.startswith("```"):
            block = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(H.escape(lines[i]))
                i += 1
            body.append("<pre>" + "\n".join(block) + "</pre>")
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            i -= 1
            head, rest = rows[0], [r for r in rows[1:] if not all(set(c) <= set("-: ") for c in r)]
            body.append("<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr></thead><tbody>"
                        + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rest)
                        + "</tbody></table>")
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            i -= 1
            body.append("<ul>" + "".join(items) + "</ul>")
        elif line.startswith("> "):
            body.append(f"<blockquote>{_inline(line[2:])}</blockquote>")
        elif line.strip():
            body.append(f"<p>{_inline(line)}</p>")
        i += 1
    style = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}"
             "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
             "text-align:left}pre{background:#f6f6f6;padding:.5rem;overflow:auto}blockquote{border-left:4px solid "
             "#ccc;margin:0;padding-left:.75rem;color:#444}@media print{h3{page-break-before:auto}}")
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{H.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def handout_html(drill: Drill, base: Path | None = None) -> str:
    svgs = {}
    if drill.tabletop is not None:
        svgs = {i.id: snapshot_svg(i.snapshot, drill.seed) for i in drill.tabletop.injects if i.snapshot is not None}
    return markdown_to_html(handout_markdown(drill, base, svg_marks=True), svgs, drill.metadata.title)

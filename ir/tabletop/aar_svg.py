"""The exercise's timeline as one picture: injects above the axis, responder actions below it (what
the alert route's automation ran as the service principal in grey, marked as automation), the
time-to-acknowledge and time-to-contain spans, and the expectations where they were decided —
failures in red. Exercise time on the axis (pauses excluded).

Self-contained SVG in the house style of `ir.report.svg`: no script, no external reference, every
label neutralised and escaped; details are in each mark's `<title>` (hover).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ir.report import svg
from ir.report.times import duration
from ir.tabletop.aar_markdown import flat
from ir.tabletop.played import at_text

WIDTH, LEFT, RIGHT = 860, 96, 40
AXIS = 118
"""The time axis: injects above it, responders below."""
ACTIONS, SPANS, MARKS = AXIS + 36, AXIS + 128, AXIS + 178
"""Where the responders' marks, the MTTA/MTTC spans and the expectations' marks sit."""
HEIGHT = AXIS + 266
RED, INK, MUTED, GREEN, BLUE = "#c0392b", "#2c3e50", "#95a5a6", "#1e8449", "#5d7fa3"
GREY = "#b8c2c8"
"""What the alert route's automation did (not a responder's action)."""
CLUSTER_PX = 9.0
"""Responder actions closer than this on the axis are drawn as one mark (its title lists them all)."""
MAX_TITLE_LINES = 40


def timeline_svg(data: dict[str, Any]) -> str:
    """The picture of a report's data (`build_aar`)."""
    rows: list[dict[str, Any]] = data["timeline"]
    times: dict[str, Any] = data["times"]
    results = [r for o in data["objectives"] for r in o["expectations"]]
    deadlines: list[dict[str, Any]] = data.get("deadlines", [])
    known = [r["at_s"] for r in rows] + [d["at_s"] for d in deadlines] + [r["at_s"] for r in results if r["at_s"]]
    end = max([60.0, float(data["exercise"]["length_s"] or 0), *(float(k) for k in known)])
    plot = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + max(min(t / end, 1.0), 0.0) * plot

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11" '
        f'aria-label="exercise timeline: injects above the axis, responder actions below">',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(str(data["exercise"]["id"]))}</text>',
        f'<text x="{WIDTH - RIGHT}" y="16" text-anchor="end" fill="{MUTED}">exercise time, pauses excluded</text>',
        f'<text x="8" y="{AXIS - 4}" fill="{MUTED}">injects</text>',
        f'<text x="8" y="{ACTIONS + 4}" fill="{MUTED}">responders</text>',
        f'<text x="8" y="{SPANS + 8}" fill="{MUTED}">times</text>',
        f'<text x="8" y="{MARKS}" fill="{MUTED}">expectations</text>',
    ]
    out += _deadlines(deadlines, x)
    out += _injects([r for r in rows if r["lane"] == "inject"], x)
    out += _axis(end, x)
    out += _actions([r for r in rows if r["lane"] in ("responder", "automation")], x)
    out += _spans(times, end, x, over=data["exercise"]["status"] == "ended")
    out += _expectations(results, x)
    out += _legend()
    out.append("</svg>")
    return "\n".join(out) + "\n"


def escape(value: str) -> str:
    """A label (or one line of a hover title) as inert SVG text on one line."""
    return svg.escape(flat(value))


def _placed(items: Sequence[tuple[float, str]], rows: int) -> list[int]:
    """A label row for each (x, text), so labels in one row do not overlap (greedy, left to right)."""
    ends = [-1e9] * rows
    chosen = []
    for pos, text in items:
        row = next((i for i in range(rows) if ends[i] < pos - 4), min(range(rows), key=lambda i: ends[i]))
        ends[row] = pos + 6.2 * len(text)
        chosen.append(row)
    return chosen


def _short(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _injects(rows: list[dict[str, Any]], x: Any) -> list[str]:
    out = []
    labels = [(x(r["at_s"]), _short(r["what"], 34)) for r in rows]
    for r, (pos, label), row in zip(rows, labels, _placed(labels, 4), strict=True):
        skipped = " skipped:" in r["what"]
        y = 40 + row * 16
        fill = "none" if skipped else INK
        tip = escape(f"{r['at']} {r['what']}")
        out.append(f'<line x1="{pos:.1f}" y1="{y + 3}" x2="{pos:.1f}" y2="{AXIS - 9}" stroke="{MUTED}"/>')
        out.append(
            f'<path d="M{pos - 6:.1f},{AXIS - 10} L{pos + 6:.1f},{AXIS - 10} L{pos:.1f},{AXIS - 1} Z" '
            f'fill="{fill}" stroke="{INK}"><title>{tip}</title></path>'
        )
        out.append(f'<text x="{pos + 3:.1f}" y="{y}" fill="{MUTED if skipped else INK}">{escape(label)}</text>')
    return out


def _axis(end: float, x: Any) -> list[str]:
    out = [f'<line x1="{LEFT}" y1="{AXIS}" x2="{WIDTH - RIGHT}" y2="{AXIS}" stroke="{INK}" stroke-width="1.5"/>']
    for k in range(6):
        t = end * k / 5
        anchor = "start" if k == 0 else "end" if k == 5 else "middle"
        out.append(f'<line x1="{x(t):.1f}" y1="{AXIS}" x2="{x(t):.1f}" y2="{AXIS + 5}" stroke="{INK}"/>')
        out.append(f'<text x="{x(t):.1f}" y="{AXIS + 16}" text-anchor="{anchor}">{at_text(t)}</text>')
    return out


def _clusters(rows: list[dict[str, Any]], x: Any) -> list[list[dict[str, Any]]]:
    """Actions close together, each cluster of one kind: the responders' and the automation's apart."""
    clusters: list[list[dict[str, Any]]] = []
    for r in sorted(rows, key=lambda r: (r["lane"], r["at_s"])):
        same = clusters and clusters[-1][0]["lane"] == r["lane"]
        if same and x(r["at_s"]) - x(clusters[-1][0]["at_s"]) < CLUSTER_PX:
            clusters[-1].append(r)
        else:
            clusters.append([r])
    return clusters


def _actions(rows: list[dict[str, Any]], x: Any) -> list[str]:
    out = []
    clusters = sorted(_clusters(rows, x), key=lambda c: c[0]["at_s"])
    labels = []
    for c in clusters:
        failed = sum(r["failed"] for r in c)
        text = _short(c[0]["what"]) if len(c) == 1 else f"{len(c)} actions" + (f", {failed} failed" if failed else "")
        if c[0]["lane"] == "automation":
            text = "automation: " + text
        labels.append((x(c[0]["at_s"]), _short(text, 34)))
    for c, (pos, label), row in zip(clusters, labels, _placed(labels, 4), strict=True):
        failed = any(r["failed"] for r in c)
        automated = c[0]["lane"] == "automation"
        colour = RED if failed else GREY if automated else BLUE
        tag = "automation, not a responder: " if automated else ""
        lines = [f"{r['at']} {tag}{r['what']}" + (f" ({r['who']})" if r["who"] else "") for r in c]
        if len(lines) > MAX_TITLE_LINES:
            lines = [*lines[:MAX_TITLE_LINES], f"… {len(lines) - MAX_TITLE_LINES} more"]
        y = ACTIONS + 22 + row * 15
        radius = 4 + min(len(c), 30) ** 0.5
        out.append(f'<line x1="{pos:.1f}" y1="{ACTIONS}" x2="{pos:.1f}" y2="{y - 10}" stroke="{MUTED}"/>')
        out.append(
            f'<circle cx="{pos:.1f}" cy="{ACTIONS}" r="{radius:.1f}" fill="{colour}">'
            f"<title>{chr(10).join(escape(line) for line in lines)}</title></circle>"
        )
        out.append(f'<text x="{pos + 3:.1f}" y="{y}" fill="{RED if failed else INK}">{escape(label)}</text>')
    return out


def _spans(times: dict[str, Any], end: float, x: Any, *, over: bool) -> list[str]:
    """The MTTA and MTTC spans; one never reached is a dashed line, red once the exercise is over."""
    out = []
    start = float(times["start_s"])
    y = SPANS
    for i, (name, key, at) in enumerate(
        (
            ("time to acknowledge", "mtta_s", times["first_action_s"]),
            ("time to contain", "mttc_s", times["contained_s"]),
        )
    ):
        top = y + i * 20
        if at is None:
            colour = RED if over else MUTED
            out.append(
                f'<line x1="{x(start):.1f}" y1="{top + 4}" x2="{x(end):.1f}" y2="{top + 4}" stroke="{colour}" '
                f'stroke-width="3" stroke-dasharray="6 4"/>'
            )
            words = "not reached" if over else "not yet"
            out.append(f'<text x="{x(start) + 4:.1f}" y="{top - 2}" fill="{colour}">{name}: {words}</text>')
            continue
        width = max(x(float(at)) - x(start), 2.0)
        label = f"{name} {duration(times[key])} (from {times['start']})"
        out.append(
            f'<rect x="{x(start):.1f}" y="{top}" width="{width:.1f}" height="8" fill="{GREEN if i else BLUE}">'
            f"<title>{escape(label)}</title></rect>"
        )
        out.append(f'<text x="{x(start) + width + 5:.1f}" y="{top + 8}">{escape(label)}</text>')
    return out


def _expectations(results: list[dict[str, Any]], x: Any) -> list[str]:
    out = []
    decided = [r for r in results if r["status"] != "pending" and r["at_s"] is not None]
    labels = [(x(r["at_s"]), f"{r['expectation']} {'✓' if r['status'] == 'passed' else '✗'}") for r in decided]
    for r, (pos, label), row in zip(decided, labels, _placed(labels, 3), strict=True):
        colour = GREEN if r["status"] == "passed" else RED
        y = MARKS + row * 15
        tip = escape(f"{r['expectation']} {r['title']}: {r['status']} — {r['why']}")
        out.append(
            f'<rect x="{pos - 4:.1f}" y="{y - 9}" width="8" height="8" fill="{colour}"><title>{tip}</title></rect>'
        )
        out.append(f'<text x="{pos + 6:.1f}" y="{y - 1}" fill="{colour}">{escape(label)}</text>')
    pending = [r["expectation"] for r in results if r["status"] == "pending"]
    undated = [f"{r['expectation']} ✗" for r in results if r["status"] == "failed" and r["at_s"] is None]
    notes = ([f"failed at the end: {', '.join(undated)}"] if undated else []) + (
        [f"pending: {', '.join(pending)}"] if pending else []
    )
    if notes:
        out.append(
            f'<text x="{LEFT}" y="{MARKS + 50}" fill="{RED if undated else MUTED}">{escape(" · ".join(notes))}</text>'
        )
    return out


def _deadlines(deadlines: list[dict[str, Any]], x: Any) -> list[str]:
    out = []
    for d in deadlines:
        colour = RED if d["status"] == "failed" else MUTED
        pos = x(d["at_s"])
        out.append(
            f'<line x1="{pos:.1f}" y1="{30}" x2="{pos:.1f}" y2="{MARKS + 34}" stroke="{colour}" '
            f'stroke-dasharray="3 3"><title>{escape(d["expectation"] + " deadline " + at_text(d["at_s"]))}'
            "</title></line>"
        )
        out.append(
            f'<text x="{pos - 3:.1f}" y="{30}" text-anchor="end" fill="{colour}">'
            f"{escape(d['expectation'])} deadline</text>"
        )
    return out


def _legend() -> list[str]:
    y = HEIGHT - 12
    pad = LEFT
    items = [
        (f'<path d="M{pad},{y - 8} L{pad + 10},{y - 8} L{pad + 5},{y} Z" fill="{INK}"/>', "inject delivered"),
        (f'<circle cx="{pad + 119}" cy="{y - 4}" r="5" fill="{BLUE}"/>', "responder actions"),
        (f'<circle cx="{pad + 244}" cy="{y - 4}" r="5" fill="{GREY}"/>', "route automation"),
        (f'<circle cx="{pad + 364}" cy="{y - 4}" r="5" fill="{RED}"/>', "a failure among them"),
        (f'<rect x="{pad + 500}" y="{y - 8}" width="8" height="8" fill="{GREEN}"/>', "expectation passed"),
        (f'<rect x="{pad + 628}" y="{y - 8}" width="8" height="8" fill="{RED}"/>', "failed"),
    ]
    offsets = (14, 128, 253, 373, 512, 640)
    return [
        f'{mark}<text x="{pad + dx}" y="{y}">{text}</text>' for (mark, text), dx in zip(items, offsets, strict=True)
    ]

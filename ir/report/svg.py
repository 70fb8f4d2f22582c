"""The timeline as a picture: events per minute as bars and the tagged events as marks on one time axis.

Inline SVG with no script, no external reference and every label escaped, so the html report
stays one self-contained file an auditor can open anywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape as _escape
from typing import Any

from ir.core.text import neutralise

WIDTH, BARS_H, MARKS_H, PAD = 760, 120, 70, 40
MAX_BARS = 360
"""At most this many bars: beyond it, events are counted in wider bins."""
BIN_MINUTES = (1, 5, 15, 60, 360, 1440)
TAG_COLOURS = ("#c0392b", "#d35400", "#8e44ad", "#2c3e50", "#16a085", "#7f8c8d")


def escape(value: str) -> str:
    """A label as inert SVG text: control and bidi characters shown as escapes, markup escaped."""
    return _escape(neutralise(value))


def _seconds(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def timeline_svg(per_minute: list[dict[str, Any]], excerpt: list[dict[str, Any]]) -> str:
    """An SVG of events per minute and the tagged events, on a shared UTC time axis ('' with no events)."""
    if not per_minute:
        return ""
    minutes = [(_seconds(p["minute"]), int(p["events"])) for p in per_minute]
    marks = [(_seconds(e["ts"]), e) for e in excerpt]
    start = min([m for m, _ in minutes] + [t for t, _ in marks])
    end = max([m + 60 for m, _ in minutes] + [t for t, _ in marks])
    span = max(end - start, 60.0)
    plot = WIDTH - 2 * PAD

    def x(t: float) -> float:
        return PAD + (t - start) / span * plot

    size = next((m * 60 for m in BIN_MINUTES if span / (m * 60) <= MAX_BARS), BIN_MINUTES[-1] * 60)
    bins: dict[float, int] = {}
    for t, n in minutes:  # a long incident is drawn in wider bins: a few hundred bars stay readable
        key = start + (t - start) // size * size
        bins[key] = bins.get(key, 0) + n
    peak = max(bins.values())
    bar_w = max(plot * size / span - 1, 1.5)
    per = "minute" if size == 60 else f"{size // 60} minutes"
    tags = sorted({t["tag"] for _, e in marks for t in e.get("tags") or []})
    height = BARS_H + MARKS_H + 44 + (len(tags) + 3) // 4 * 14
    parts = [
        f'<svg role="img" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'aria-label="timeline: events per {per} and tagged events">',
        f'<text x="{PAD}" y="14" class="lbl">events per {per} (peak {peak})</text>',
    ]
    for t, n in sorted(bins.items()):
        h = max(n / peak * (BARS_H - 24), 1.0)
        parts.append(
            f'<rect x="{x(t):.1f}" y="{BARS_H - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#5d7fa3">'
            f"<title>{escape(_minute(t))}: {n} events</title></rect>"
        )
    base = BARS_H + MARKS_H
    parts.append(f'<text x="{PAD}" y="{BARS_H + 16}" class="lbl">tagged events</text>')
    colour = {tag: TAG_COLOURS[i % len(TAG_COLOURS)] for i, tag in enumerate(tags)}
    for i, (t, e) in enumerate(marks):
        first = (e.get("tags") or [{"tag": "?"}])[0]["tag"]
        cy = BARS_H + 28 + (i % 4) * 10
        label = f"{e['ts']} {e['kind']}: {e['message']} [{', '.join(t['tag'] for t in e.get('tags') or [])}]"
        parts.append(
            f'<circle cx="{x(t):.1f}" cy="{cy}" r="4" fill="{colour.get(first, "#000")}">'
            f"<title>{escape(label)}</title></circle>"
        )
    parts.append(f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="#333"/>')
    for k in range(5):
        t = start + span * k / 4
        parts.append(f'<line x1="{x(t):.1f}" y1="{base}" x2="{x(t):.1f}" y2="{base + 5}" stroke="#333"/>')
        anchor = "start" if k == 0 else "end" if k == 4 else "middle"
        parts.append(
            f'<text x="{x(t):.1f}" y="{base + 18}" text-anchor="{anchor}" class="lbl">{_clock(t, span)}</text>'
        )
    for i, tag in enumerate(tags):
        parts.append(
            f'<circle cx="{PAD + i % 4 * 170 + 5}" cy="{base + 34 + i // 4 * 14}" r="4" fill="{colour[tag]}"/>'
            f'<text x="{PAD + i % 4 * 170 + 14}" y="{base + 38 + i // 4 * 14}" class="lbl">{escape(tag)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _minute(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _clock(t: float, span: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:%M" if span > 86_400 else "%H:%M:%S")

"""The after-action report as Markdown, in HSEEP order, every value from a journal neutralised and escaped."""

from __future__ import annotations

from typing import Any

from ir.core.text import neutralise
from ir.report import markdown
from ir.tabletop.played import at_text
from ir.tabletop.scoring import RATINGS

MARK = {"passed": "✓ passed", "failed": "✗ **failed**", "pending": "… pending"}


def flat(value: Any) -> str:
    """A value on one line: every run of whitespace, line breaks included, as one space (a scenario's
    folded `summary:` ends in a newline; a note may hold several). Nothing else is changed."""
    return " ".join(("" if value is None else str(value)).split())


def text(value: Any) -> str:
    """A value as inert Markdown text on one line (a table cell, a heading, a list item)."""
    return markdown.text(flat(value))


def code(value: Any) -> str:
    """An id, a path or a hash as inline code on one line."""
    return markdown.code(flat(value))


def prose(line: str) -> str:
    """A line of the scenario's own Markdown (the narrative): its formatting kept, raw HTML shown as text."""
    return neutralise(line).replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(r: dict[str, Any]) -> str:
    """The report of `build_aar`'s data as one Markdown document."""
    ov, ex = r["overview"], r["exercise"]
    lines = [
        f"# After-action report: {text(ov['name'])}",
        "",
        f"Exercise {code(ex['id'])} — **{text(ex['status'])}**"
        + (f" ({text(ex['ended_reason'])})" if ex["ended_reason"] else "")
        + f", {text(at_text(ex['length_s']))} of exercise time.",
        "",
        *[f"> **Note:** {text(note)}" for note in r["notes"]],
        *([""] if r["notes"] else []),
        *_overview(ov, ex),
        *_summary(r["summary"], r["times"], provisional=ex["status"] != "ended"),
        *_objectives(r["objectives"]),
        *_timeline(r["timeline"]),
        *_plan(r["improvement_plan"]),
        *_participants(r["participants"]),
        *_appendix(ex),
    ]
    return "\n".join(lines) + "\n"


def _overview(ov: dict[str, Any], ex: dict[str, Any]) -> list[str]:
    refs, scope, sc = ov["scope"]["references"], ov["scope"], ov["scenario"]
    dates = ov["dates"]
    injects = "; ".join(f"{i['id']} {i['title']}" for i in scope["injects"])
    when = text(dates["start"] or "—") + (
        f" – {text(dates['end'])}" if dates["end"] and dates["end"] != dates["start"] else ""
    )
    mode = f"clock {text(ex['clock'])}" + (", reference response (--auto)" if ex["auto"] else "")
    mode += ", live-fire sandbox" if ex["live_fire"] else ", simulated world"
    lines = [
        "## 1. Exercise overview",
        "",
        "| | |",
        "|---|---|",
        f"| exercise name | {text(ov['name'])} |",
        f"| exercise dates | {when} |",
        f"| scope | {text(scope['summary'])} Agents: {text(', '.join(scope['agents']))}. |",
        f"| scenario | {text(sc['id'])} {text(sc['version'])} (sha256 {code(sc['sha256'] or '—')}) |",
        f"| drawn from | {text(refs['incident'])} |",
        f"| OWASP agentic (ASI) | {text(', '.join(refs['asi']) or '—')} |",
        f"| MITRE ATLAS | {text(', '.join(refs['atlas']) or '—')} |",
        f"| injects | {text(injects)} |",
        f"| participants | {text(', '.join(ov['participants']) or '—')} |",
        f"| point of contact | {text(ov['point_of_contact'] or '—')} (facilitator) |",
        f"| how it was run | {mode} |",
        "",
        "### Objectives",
        "",
        *[_objective_line(o) for o in ov["objectives"]],
        "",
        "### Scenario",
        "",
        *[f"> {prose(line)}" for line in str(sc["narrative"]).strip().splitlines()],
        "",
    ]
    return lines


def _objective_line(o: dict[str, Any]) -> str:
    capability = f" ({text(o['capability'])})" if o["capability"] else ""
    return f"- **{text(o['id'])}** {text(o['title'])}{capability}"


def _summary(s: dict[str, Any], t: dict[str, Any], *, provisional: bool) -> list[str]:
    ratings = " · ".join(f"{text(k)} **{text(v or '—')}**" for k, v in s["ratings"].items())
    return [
        "## 2. Executive summary",
        "",
        f"- time to acknowledge: **{text(s['time_to_acknowledge'])}**; "
        f"time to contain: **{text(s['time_to_contain'])}** (from {text(t['start'])}, exercise time, pauses excluded)",
        f"- acknowledged (the first thing a person did): {text(s['acknowledged_by'])}; "
        f"contained by: {text(s['contained_by'] or 'not contained')}",
        f"- expectations: {s['passed']} passed, {s['failed']} failed, {s['pending']} pending",
        f"- objectives: {ratings}" + (" (provisional: the exercise is in progress)" if provisional else ""),
        "",
        "### Strengths",
        "",
        *([f"- {text(line)}" for line in s["strengths"]] or ["- none recorded"]),
        "",
        "### Areas for improvement",
        "",
        *([f"- {text(line)}" for line in s["areas_for_improvement"]] or ["- none: every expectation passed"]),
        "",
    ]


def _evidence(items: list[dict[str, Any]]) -> str:
    shown = [code(e["file"]) + (f" seq {e['seq']}" if e["seq"] is not None else f" ({text(e['what'])})") for e in items]
    return "<br>".join(dict.fromkeys(shown)) or "—"


def _objectives(objectives: list[dict[str, Any]]) -> list[str]:
    lines = ["## 3. Analysis of objectives", ""]
    for o in objectives:
        rating = o["rating"] or "—"
        lines += [
            f"### {text(o['id'])} {text(o['title'])} — **{text(rating)}** ({text(o['rating_meaning'])})",
            "",
            (f"Capability: {text(o['capability'])}. " if o["capability"] else "") + text(o["why"]) + ".",
            "",
            "| expectation | checked by | result | why | evidence |",
            "|---|---|---|---|---|",
        ]
        for e in o["expectations"]:
            by = f"{e['kind']} ({e['source']})"
            lines.append(
                f"| {text(e['expectation'])} {text(e['title'])} | {text(by)} | {MARK[e['status']]} | "
                f"{text(e['why'])} | {_evidence(e['evidence'])} |"
            )
        lines.append("")
    return lines


def _timeline(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## 4. Timeline: injects and responder actions",
        "",
        "![injects above the axis, responder actions (and the alert route's automation, grey) below, failures in red]"
        "(timeline.svg)",
        "",
        "| exercise time | | who | what | record |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        what = ("✗ **" + text(r["what"]) + "**") if r["failed"] else text(r["what"])
        where = f"{code(r['file'])} seq {r['seq']}"
        lines.append(f"| {text(r['at'])} | {text(r['lane'])} | {text(r['who'] or '')} | {what} | {where} |")
    lines.append("")
    return lines


def _plan(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## 5. Improvement plan",
        "",
        "Owners and dates are defaults: edit `improvement.yaml` beside this report and write it again.",
        "",
        "| capability | issue | corrective action | element | owner | start | due |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in rows:
        lines.append(
            f"| {text(p['capability'])} | {text(p['id'])}: {text(p['issue'])} | {text(p['corrective_action'])} | "
            f"{text(p['element'])} | {text(p['owner'])} | {text(p['start'])} | {text(p['due'])} |"
        )
    if not rows:
        lines.append("| — | every expectation passed | — | — | — | — | — |")
    lines.append("")
    return lines


def _participants(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["## 6. Participants", "", "| who | role | joined | records |", "|---|---|---|---|"]
    lines += [
        f"| {text(p['as'])} | {text(p['role_title'])} | {text(at_text(p['joined_at_s']))} | {p['records']} |"
        for p in rows
    ]
    return [*lines, ""]


def _appendix(ex: dict[str, Any]) -> list[str]:
    head = ex["journal"]["head"]
    return [
        "## Appendix: how this report was scored",
        "",
        "Expectations are decided from the sandbox's case journals, the simulated world and the exercise journal, "
        "never self-reported; manual ones are the facilitator's marks. Ratings: "
        + "; ".join(f"**{k}** {v}" for k, v in RATINGS.items())
        + ". P: every expectation passed; S: every engine expectation passed, a manual one did not; "
        "M: some passed, an engine one did not; U: none passed (pending counts as not passed).",
        "",
        f"Exercise journal {code(ex['journal']['file'])}: {ex['journal']['records']} records, head seq {head['seq']} "
        f"sha256 {code(head['hash'])}.",
    ]

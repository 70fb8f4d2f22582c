"""The report as Markdown: the sections in the order a reader asks, every value neutralised."""

from __future__ import annotations

from typing import Any

from ir.core.text import neutralise
from ir.report.times import duration, not_contained

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*[]<>|"})


def text(value: Any) -> str:
    """A value from the journal or the agent's world as inert Markdown text on one line."""
    return neutralise("" if value is None else str(value)).translate(_MD_SPECIAL)


def code(value: Any) -> str:
    """A hash or an id as inline code (backticks in it cannot close the span)."""
    return "`" + neutralise(str(value)).replace("`", "'") + "`"


def render_markdown(r: dict[str, Any]) -> str:
    """The incident report of `build_report`'s data as one Markdown document."""
    lines = [
        f"# Incident report: {text(r['case'])}",
        "",
        f"- agent: {text(r['agent'])} (owner {text(r['agent_owner']) or '—'})",
        f"- playbook: {text(r['playbook']['id'])} {text(r['playbook']['version'])} "
        f"(sha256 {code(r['playbook']['sha256'])})",
        f"- status: **{text(r['status'])}**" + (f" — aborted {text(r['aborted'])}" if r["aborted"] else ""),
        "",
        *_times(r["times"]),
        *_happened(r["happened"]),
        *_done(r["done"]),
        *_live(r["live"]),
        *_evidence(r["evidence"], r["unavailable"]),
        *_decisions(r["decisions"]),
        *_journal(r["journal"]),
    ]
    return "\n".join(lines) + "\n"


def _times(t: dict[str, Any]) -> list[str]:
    return [
        "## The times that matter",
        "",
        "| moment | when (UTC) |",
        "|---|---|",
        f"| first alert | {text(t['first_alert'] or '—')} |",
        f"| case opened | {text(t['opened'] or '—')} |",
        f"| first action | {text(t['first_action'] or '—')} |",
        f"| contained | {text(t['contained'] or not_contained(t))} |",
        "",
        f"- time to acknowledge: **{duration(t['time_to_acknowledge_s'])}**",
        f"- time to contain: **{duration(t['time_to_contain_s'])}**",
        "",
    ]


def _event(e: dict[str, Any]) -> str:
    tags = ", ".join(f"{text(t['tag'])} ({text(t['why'])})" for t in e.get("tags") or [])
    return f"| {text(e['ts'])} | {text(e['kind'])} | {text(e['message'])} | {tags} |"


def _happened(h: dict[str, Any]) -> list[str]:
    out = ["## What happened", ""]
    first, injection = h["first_suspicious"], h["likely_injection"]
    if first:
        out.append(f"- first suspicious event: {text(first.get('ts'))} {text(first.get('message'))}")
    if injection:
        out.append(f"- likely injection source: {text(injection.get('ts'))} {text(injection.get('message'))}")
    if h["by_tag"]:
        out.append("- tags: " + ", ".join(f"{text(k)} {n}" for k, n in sorted(h["by_tag"].items())))
    if h["timeline_file"]:
        f = h["timeline_file"]
        out.append(
            f"- timeline: {h['events']} events, {h['tagged_events']} tagged "
            f"({text(f['path'])}, sha256 {code(f['sha256'])})"
        )
    else:
        out.append(f"- timeline: not read — {text(h['timeline_not_read'])}")
    if h["excerpt"]:
        shown = len(h["excerpt"])
        more = f" (first {shown} of {h['tagged_events']})" if h["tagged_events"] > shown else ""
        out += ["", f"Tagged events{more}:", "", "| time | kind | event | tags |", "|---|---|---|---|"]
        out += [_event(e) for e in h["excerpt"]]
    return [*out, ""]


def _done(d: dict[str, Any]) -> list[str]:
    out = ["## What was done", "", "| step | action | status | approved by | notes |", "|---|---|---|---|---|"]
    for s in d["steps"]:
        extra = []
        if s.get("skipped"):
            who = s["skipped"]["by"]
            extra.append(f"skipped by {text(who)}: {text(s['skipped']['reason'])}" if who else "skipped by its `when:`")
        if s.get("error"):
            extra.append(f"error: {text(s['error'])}")
        if s.get("failed_targets"):
            extra.append(f"failed targets: {text(s['failed_targets'])}")
        if s["id"] in d["overrides"]:
            extra.append(f"evidence gate overridden: {text(d['overrides'][s['id']])}")
        out.append(
            f"| {text(s['id'])} — {text(s['title'])} | {text(s['action'])} | {text(s['status'])} "
            f"| {text(s.get('approved_by') or '—')} | {'; '.join(extra)} |"
        )
    if d["declined"]:
        out += ["", "Declined approvals:", ""]
        out += [
            f"- {text(x.get('ts'))} step {text(x.get('step'))} declined by {text(x.get('by'))}: {text(x.get('reason'))}"
            for x in d["declined"]
        ]
    if d["notes"]:
        out += ["", "Notes:", ""]
        out += [
            f"- {text(n['by'])}" + (f" (step {text(n['step'])})" if n["step"] else "") + f": {text(n['text'])}"
            for n in d["notes"]
        ]
    return [*out, ""]


def _live(live: dict[str, Any]) -> list[str]:
    out = ["## Still live, and follow-ups", ""]
    if not live["assessed"]:
        out.append("- what is still live was not assessed (the run did not reach its end)")
    elif live["still_live"]:
        out += [
            f"- STILL LIVE: {text(s['what'])} (step {text(s['step'])}: {text(s['why'])})" for s in live["still_live"]
        ]
    else:
        out.append("- nothing still live at the end of the run")
    out += [
        f"- follow-up: {text(f['what'])} — owner **{text(f['owner'] or 'unassigned')}**: {text(f['why'])}"
        for f in live["follow_ups"]
    ] or ["- no follow-ups"]
    return [*out, ""]


def _evidence(evidence: list[dict[str, Any]], unavailable: list[dict[str, Any]]) -> list[str]:
    out = ["## Evidence manifest", "", "| name | step | size (bytes) | sha256 | |", "|---|---|---|---|---|"]
    out += [
        f"| {text(e['name'])} | {text(e['step'])} | {e['size']} | {code(e['sha256'])} "
        f"| {'sensitive' if e['sensitive'] else ''} |"
        for e in evidence
    ]
    if unavailable:
        out.append("")
    out += [f"- unavailable: {text(u['name'])} (step {text(u['step'])}): {text(u['reason'])}" for u in unavailable]
    return [*out, ""]


def _decisions(decisions: list[dict[str, Any]]) -> list[str]:
    out = ["## Decisions", ""]
    if not decisions:
        return [*out, "- no decision recorded yet", ""]
    for d in decisions:
        approved = f", approved by {text(d['approved_by'])}" if d["approved_by"] else ""
        out.append(
            f"- **{text(d['decision'])}** by {text(d['by'])}{approved} at {text(d['ts'])} "
            f"(journal seq {d['seq']}, sha256 {code(d['hash'])}): {text(d['reason'])}"
        )
        if d["root_cause"]:
            out.append(f"  - root cause: {text(d['root_cause'])}")
        for s in d["signers"]:
            state = "verified" if s["verified"] else "NOT verified"
            out.append(f"  - signed by {text(s['principal'])} ({text(s['role'])}) key {code(s['key'])}: {state}")
        out += [f"  - problem: {text(p)}" for p in d["problems"]]
    return [*out, ""]


def _journal(j: dict[str, Any]) -> list[str]:
    signed = j["signed_head"]
    return [
        "## Journal",
        "",
        f"- head: seq {j['head']['seq']} sha256 {code(j['head']['hash'])} ({j['records']} records)",
        (
            f"- last signed head: seq {signed['seq']} sha256 {code(signed['hash'])} by {text(signed['by'])}"
            + (" (a demo key)" if signed["demo"] else "")
            if signed
            else "- last signed head: none (unsigned case)"
        ),
        "",
    ]

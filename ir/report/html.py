"""The report as one self-contained HTML file: inline CSS, an inline SVG, no script, no external fetch.

Every value is HTML-escaped (and neutralised: control and bidi characters shown as escapes), so
text from the agent's world cannot add markup, a link or a script to what an auditor opens.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ir.core.text import neutralise
from ir.report.svg import timeline_svg
from ir.report.times import duration, not_contained

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;
vertical-align:top}th{background:#f3f3f3}code{font:12px ui-monospace,monospace;word-break:break-all}
.bad{color:#b00020;font-weight:bold}.ok{color:#1b5e20}.lbl{font:11px sans-serif;fill:#333}.muted{color:#777}
.summary td:first-child{width:14em}
"""


def h(value: Any) -> str:
    """A value as inert HTML text."""
    return escape(neutralise("" if value is None else str(value)))


def c(value: Any) -> str:
    """A hash or an id as escaped code."""
    return f"<code>{h(value)}</code>"


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{x}</th>" for x in head)
    body = "".join("<tr>" + "".join(f"<td>{x}</td>" for x in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def render_html(r: dict[str, Any]) -> str:
    """The incident report of `build_report`'s data as one HTML document."""
    t, hp, d, live, j = r["times"], r["happened"], r["done"], r["live"], r["journal"]
    status = f'<span class="{"ok" if r["status"] == "succeeded" else "bad"}">{h(r["status"])}</span>'
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>Incident report {h(r['case'])}</title><style>{CSS}</style></head><body>",
        f"<h1>Incident report: {h(r['case'])}</h1>",
        '<table class="summary">',
        f"<tr><td>agent</td><td>{h(r['agent'])} (owner {h(r['agent_owner'] or '—')})</td></tr>",
        f"<tr><td>playbook</td><td>{h(r['playbook']['id'])} {h(r['playbook']['version'])} "
        f"{c(r['playbook']['sha256'])}</td></tr>",
        f"<tr><td>status</td><td>{status}{' — aborted ' + h(r['aborted']) if r['aborted'] else ''}</td></tr>",
        f"<tr><td>time to acknowledge</td><td><b>{h(duration(t['time_to_acknowledge_s']))}</b></td></tr>",
        f"<tr><td>time to contain</td><td><b>{h(duration(t['time_to_contain_s']))}</b></td></tr>",
        "</table>",
        "<h2>The times that matter</h2>",
        _table(
            ["moment", "when (UTC)"],
            [
                ["first alert", h(t["first_alert"] or "—")],
                ["case opened", h(t["opened"] or "—")],
                ["first action", h(t["first_action"] or "—")],
                ["contained", h(t["contained"] or not_contained(t))],
            ],
        ),
        *_happened(hp),
        *_done(d),
        *_live(live),
        "<h2>Evidence manifest</h2>",
        _table(
            ["name", "step", "size (bytes)", "sha256", ""],
            [
                [h(e["name"]), h(e["step"]), h(e["size"]), c(e["sha256"]), "sensitive" if e["sensitive"] else ""]
                for e in r["evidence"]
            ],
        ),
        *[f"<p>unavailable: {h(u['name'])} (step {h(u['step'])}): {h(u['reason'])}</p>" for u in r["unavailable"]],
        *_decisions(r["decisions"]),
        "<h2>Journal</h2>",
        f"<p>head: seq {h(j['head']['seq'])} sha256 {c(j['head']['hash'])} ({h(j['records'])} records)</p>",
        (
            f"<p>last signed head: seq {h(j['signed_head']['seq'])} sha256 {c(j['signed_head']['hash'])} "
            f"by {h(j['signed_head']['by'])}{' (a demo key)' if j['signed_head']['demo'] else ''}</p>"
            if j["signed_head"]
            else '<p class="bad">last signed head: none (unsigned case)</p>'
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _happened(hp: dict[str, Any]) -> list[str]:
    out = ["<h2>What happened</h2>", "<ul>"]
    for label, key in (("first suspicious event", "first_suspicious"), ("likely injection source", "likely_injection")):
        if hp[key]:
            out.append(f"<li>{label}: {h(hp[key].get('ts'))} {h(hp[key].get('message'))}</li>")
    if hp["by_tag"]:
        out.append("<li>tags: " + ", ".join(f"{h(k)} {h(n)}" for k, n in sorted(hp["by_tag"].items())) + "</li>")
    if hp["timeline_file"]:
        f = hp["timeline_file"]
        out.append(
            f"<li>timeline: {h(hp['events'])} events, {h(hp['tagged_events'])} tagged "
            f"({h(f['path'])} {c(f['sha256'])})</li>"
        )
    else:
        out.append(f"<li>timeline: not read — {h(hp['timeline_not_read'])}</li>")
    out.append("</ul>")
    picture = timeline_svg(hp["per_minute"], hp["excerpt"])
    if picture:
        out.append(
            f'<figure>{picture}<figcaption class="muted">hover a bar or a mark for details</figcaption></figure>'
        )
    if hp["excerpt"]:
        out.append(
            _table(
                ["time", "kind", "event", "tags"],
                [
                    [
                        h(e["ts"]),
                        h(e["kind"]),
                        h(e["message"]),
                        "<br>".join(f"{h(x['tag'])}: {h(x['why'])}" for x in e.get("tags") or []),
                    ]
                    for e in hp["excerpt"]
                ],
            )
        )
    return out


def _done(d: dict[str, Any]) -> list[str]:
    rows = []
    for s in d["steps"]:
        extra = []
        if s.get("skipped"):
            who = s["skipped"]["by"]
            extra.append(f"skipped by {h(who)}: {h(s['skipped']['reason'])}" if who else "skipped by its when:")
        if s.get("error"):
            extra.append(f"error: {h(s['error'])}")
        if s.get("failed_targets"):
            extra.append(f"failed targets: {h(s['failed_targets'])}")
        if s["id"] in d["overrides"]:
            extra.append(f"evidence gate overridden: {h(d['overrides'][s['id']])}")
        good = s["status"] in ("succeeded", "skipped")
        rows.append(
            [
                f"{h(s['id'])} — {h(s['title'])}",
                h(s["action"]),
                f'<span class="{"ok" if good else "bad"}">{h(s["status"])}</span>',
                h(s.get("approved_by") or "—"),
                "<br>".join(extra),
            ]
        )
    out = ["<h2>What was done</h2>", _table(["step", "action", "status", "approved by", "notes"], rows)]
    if d["declined"]:
        out.append("<h3>Declined approvals</h3><ul>")
        out += [
            f"<li>{h(x.get('ts'))} step {h(x.get('step'))} declined by {h(x.get('by'))}: {h(x.get('reason'))}</li>"
            for x in d["declined"]
        ]
        out.append("</ul>")
    if d["notes"]:
        out.append("<h3>Notes</h3><ul>")
        out += [
            f"<li>{h(n['by'])}{' (step ' + h(n['step']) + ')' if n['step'] else ''}: {h(n['text'])}</li>"
            for n in d["notes"]
        ]
        out.append("</ul>")
    return out


def _live(live: dict[str, Any]) -> list[str]:
    out = ["<h2>Still live, and follow-ups</h2>", "<ul>"]
    if not live["assessed"]:
        out.append('<li class="bad">what is still live was not assessed (the run did not reach its end)</li>')
    elif live["still_live"]:
        out += [
            f'<li class="bad">STILL LIVE: {h(s["what"])} (step {h(s["step"])}: {h(s["why"])})</li>'
            for s in live["still_live"]
        ]
    else:
        out.append("<li>nothing still live at the end of the run</li>")
    out += [
        f"<li>follow-up: {h(f['what'])} — owner <b>{h(f['owner'] or 'unassigned')}</b>: {h(f['why'])}</li>"
        for f in live["follow_ups"]
    ] or ["<li>no follow-ups</li>"]
    return [*out, "</ul>"]


def _decisions(decisions: list[dict[str, Any]]) -> list[str]:
    out = ["<h2>Decisions</h2>"]
    if not decisions:
        return [*out, "<p>no decision recorded yet</p>"]
    for d in decisions:
        approved = f", approved by {h(d['approved_by'])}" if d["approved_by"] else ""
        out.append(
            f"<p><b>{h(d['decision'])}</b> by {h(d['by'])}{approved} at {h(d['ts'])} "
            f"(journal seq {h(d['seq'])}, {c(d['hash'])}): {h(d['reason'])}</p><ul>"
        )
        if d["root_cause"]:
            out.append(f"<li>root cause: {h(d['root_cause'])}</li>")
        for s in d["signers"]:
            state = '<span class="ok">verified</span>' if s["verified"] else '<span class="bad">NOT verified</span>'
            out.append(f"<li>signed by {h(s['principal'])} ({h(s['role'])}) key {c(s['key'])}: {state}</li>")
        out += [f'<li class="bad">problem: {h(p)}</li>' for p in d["problems"]]
        out.append("</ul>")
    return out

"""How the alerts screen draws an alert: its table cells, and the details pane's text.

Every string that came with an alert (title, source, ids, reasons) is neutralised and put in a
`Text`, never in a markup string: a title such as `[red]…` or `\\x1b]52;…` is shown as written.
"""

from __future__ import annotations

from rich.text import Text

from ir.core.text import neutralise
from ir.tui.alert_rows import CaseLink, Entry, when
from ir.tui.widgets.case_header import STATUS_STYLE

OUTCOME_WORDS = {"waiting": "WAITING for a person"}
"""Outcomes shown in other words than the inbox's (the rest read as stored)."""

OUTCOME_STYLE = {
    "waiting": "bold black on yellow",
    "new": "bold cyan",
    "contained": "bold green",
    "folded": "green",
    "failed": "bold red",
    "rejected": "red",
    "dismissed": "dim",
    "duplicate": "dim",
}

COLUMNS = ("alert", "outcome", "severity", "source", "agents", "case now", "title")
"""The alerts table's columns (outcome second: at 80 columns the long titles are cut, not it)."""


def outcome_text(outcome: str) -> Text:
    """The outcome as the table shows it."""
    return Text(OUTCOME_WORDS.get(outcome, outcome), style=OUTCOME_STYLE.get(outcome, ""))


def case_now(cases: tuple[CaseLink, ...]) -> Text:
    """Where its cases are now: `approval waits: console` first, then the other statuses."""
    waits = [step for case in cases for step in case.waiting_for]
    if waits:
        return Text(f"approval waits: {', '.join(dict.fromkeys(waits))}", style="bold yellow")
    statuses = list(dict.fromkeys(c.status for c in cases if c.case is not None))
    return Text(", ".join(statuses) or "-", style=STATUS_STYLE.get(statuses[0], "") if len(statuses) == 1 else "")


def cells(entry: Entry) -> tuple[Text, ...]:
    """One table row."""
    if entry.row is None:
        delivery = entry.delivery
        source = neutralise(delivery.source) if delivery else "?"
        why = neutralise(delivery.reason or "") if delivery else ""
        return (Text(entry.ref), outcome_text("rejected"), Text("-"), Text(source), Text("-"), Text("-"), Text(why))
    row, alert = entry.row, entry.row.alert
    agents = [str(a) for a in row.resolution.get("agents") or []]
    who = ", ".join(agents) if agents else f"({row.resolution.get('state') or 'not resolved'})"
    return (
        Text(entry.ref),
        outcome_text(row.outcome),
        Text(neutralise(alert.severity)),
        Text(neutralise(alert.source)),
        Text(neutralise(who)),
        case_now(entry.cases),
        Text(neutralise(alert.title)),
    )


def details(entry: Entry) -> Text:
    """The details pane: what the alert said, why it came to its outcome, its cases, what waits."""
    text = Text()
    if entry.row is None:
        delivery = entry.delivery
        assert delivery is not None
        text.append(f"delivery {delivery.id} · ", style="bold")
        text.append_text(outcome_text("rejected"))
        text.append(f"\nfrom {neutralise(delivery.source)} ({delivery.format}) at {when(delivery.received)}")
        text.append(f", via {neutralise(delivery.via)}\nsha256 {delivery.sha256}, {len(delivery.body)} bytes")
        text.append(f"\nwhy: {neutralise(delivery.reason or '')}")
        return text
    row, alert = entry.row, entry.row.alert
    text.append(f"alert {row.ref} · ", style="bold")
    text.append_text(outcome_text(row.outcome))
    text.append(f"\n{neutralise(alert.title)}", style="bold")
    observed = when(alert.observed) if alert.observed else "unknown"
    text.append(f"\n{neutralise(alert.source)} ({neutralise(alert.kind)}) · severity {neutralise(alert.severity)}")
    text.append(f" · {alert.status} · observed {observed}")
    text.append(f"\nincident {neutralise(alert.incident_key)} · source id {neutralise(alert.source_id)}")
    text.append(f"\nwhy: {neutralise(row.reason) or '-'}")
    res = row.resolution
    if res:
        agents = ", ".join(str(a) for a in res.get("agents") or []) or "none"
        rule = f" by {res['rule']}" if res.get("rule") else ""
        text.append("\n" + neutralise(f"agents: {agents} — {res.get('state', '?')}{rule}: {res.get('detail', '')}"))
    if row.route or row.policy:
        text.append("\n" + neutralise(f"route: {row.route or '-'} · policy {row.policy or '-'}"))
    if entry.cases:
        text.append("\n\ncases:", style="bold")
    for case in entry.cases:
        text.append(f"\n  {case.agent}: {case.how}")
        if case.case is not None:
            text.append(f" — {case.case.name} — now ")
            text.append(case.status, style=STATUS_STYLE.get(case.status, "bold"))
        elif case.status:
            text.append(f" — {neutralise(case.status)}")
        if case.waiting_for:
            text.append(f"\n    waits for approval: {', '.join(case.waiting_for)}", style="bold yellow")
        if case.why:
            text.append(f"\n    {case.why}")
    text.append("\n\n")
    text.append(next_steps(entry), style="italic")
    return text


def next_steps(entry: Entry) -> str:
    """What a person can do about it here."""
    if entry.outcome == "waiting":
        return (
            f"It waits for a person: d dismisses it with a reason; "
            f"`ir alerts assign {entry.ref} --agent ID` names the agent so its route runs."
        )
    if entry.approvable:
        return "y reviews and approves the step that waits (on the case's run screen); Enter opens the case."
    if entry.openable:
        return "Enter opens the case."
    return "Nothing waits on it."

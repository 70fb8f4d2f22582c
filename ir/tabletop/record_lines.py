"""One line (or a few) per exercise record, as a person follows an exercise: the headless run
prints them, the console's exercise panel shows them."""

from __future__ import annotations

from typing import Any


def clock_text(text: str) -> str:
    """Exercise seconds as `m:ss` (or `h:mm:ss`)."""
    m, s = divmod(int(float(text)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:2d}:{s:02d}"


def record_line(kind: str, data: Any) -> str | None:
    """The line for one record, or None for bookkeeping (checkpoints, the auto clock's jumps)."""
    at = f"[{clock_text(str(data.get('exercise_s', 0)))}]"
    if kind == "exercise.started":
        sc = data["scenario"]
        mode = ", reference response (--auto)" if data.get("auto") else ""
        fire = ", LIVE FIRE" if data.get("live_fire") else ""
        said = f"{sc['id']} {sc['version']}; clock {data['clock']}{mode}{fire}"
        return f"EXERCISE {data['exercise']}: {sc['title']} ({said})"
    if kind == "participant.joined":
        took = " and took over the clock (the console before it is gone)" if data.get("controller") else ""
        return f"{at} {data['as']} joined as {data['role']}{took}"
    if kind == "inject.delivered":
        return f"{at} inject {data['inject']} delivered: {data['title']}" + "".join(
            f"\n         {part}" for part in delivery_parts(data.get("details") or {})
        )
    if kind == "inject.skipped":
        return f"{at} inject {data['inject']} skipped: {data['why']}"
    if kind == "move.played":
        about = f" {data['agent']}" if data.get("agent") else ""
        return f"{at} move {data['move']} {data['what']}{about} by {data['by']}: {_result(data['result'])}"
    if kind == "clock.advanced":
        return None if data.get("by") == "auto" else f"{at} clock advanced {float(data['seconds']):g}s by {data['by']}"
    if kind == "clock.paused":
        return f"{at} clock paused by {data['by']}"
    if kind == "clock.resumed":
        return f"{at} clock resumed by {data['by']} after {float(data['paused_s']):g}s"
    if kind == "expectation.marked":
        return f"{at} expectation {data['expectation']} {'passed' if data['passed'] else 'failed'} (by {data['by']})"
    if kind == "note":
        return f"{at} note by {data['by']}: {data['text']}"
    if kind == "exercise.ended":
        return f"{at} exercise ended: {data['reason']} (by {data['by']})"
    return None


def delivery_parts(details: dict[str, Any]) -> list[str]:
    """What an inject's delivery did, a line per part: the card, the alert's cases, logs, world changes."""
    parts = []
    card = details.get("card")
    if card:
        parts.append(f"card for {card.get('to') or 'everyone'}: {card['title']}")
    alert = details.get("alert")
    if alert:
        outcomes = ", ".join(f"{a['ref']} {a['outcome']}" for a in alert.get("alerts") or []) or "no alert read"
        cases = ", ".join(alert.get("cases") or []) or "no case"
        parts.append(f"alert via {alert['source']}: {outcomes} → {cases}")
    for path in details.get("logs") or ():
        parts.append(f"log lines appended to {path}")
    for change in details.get("world") or ():
        subject = change.get("key") or change.get("user") or change.get("role") or change.get("url") or ""
        said = "applied" if change.get("applied") else f"refused: {change.get('why')}"
        parts.append(f"world: {change['op']} {subject} {said}".replace("  ", " "))
    return parts


def _result(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"not played: {result['error']}"
    if "skipped" in result:
        return f"skipped: {result['skipped']}"
    if "decision" in result:
        return f"decision {result['decision']} in {result['case']} (seq {result['seq']})"
    if "expectation" in result:
        return f"{result['expectation']} passed"
    bits = [f"case {result.get('case')} {result.get('status')}"]
    if result.get("waiting_for"):
        bits.append(f"waits for {', '.join(result['waiting_for'])}")
    return "; ".join(bits)

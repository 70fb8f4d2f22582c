"""What the exercise panel says, as rich Text: the clock, the injects with their cards, the
expectations turning pass/fail, the exercise journal. Pure functions of a view and a score, so
they are tested without a terminal. Scenario and journal text is plain text, never markup.
"""

from __future__ import annotations

from rich.text import Text

from ir.core.text import neutralise
from ir.report.times import duration
from ir.tabletop.record_lines import clock_text, delivery_parts, record_line
from ir.tabletop.scenario import Scenario
from ir.tabletop.sessions import ExerciseView
from ir.tabletop.status import InjectState
from ir.tui.exercise_score import Score

MARK = {"passed": ("✓", "green"), "failed": ("✗", "bold red"), "pending": ("…", "dim")}
RATING = {"P": "green", "S": "yellow", "M": "dark_orange", "U": "bold red"}
FOR_YOU = "bold black on yellow"
"""A card addressed to the role at this console."""
JOURNAL_LINES = 8
"""How many of the latest exercise records the panel shows."""


def _t(value: float) -> str:
    return clock_text(str(value)).strip()


def clock_lines(view: ExerciseView, score: Score | None) -> Text:
    """Clock and its mode, the next inject's countdown, the times, who is at this console."""
    s = view.status
    out = Text()
    out.append("Clock  ", style="bold")
    out.append(f"{_t(s.exercise_s)}", style="bold")
    out.append(f" of {_t(s.end_after_s)} · clock {s.clock}")
    if s.ended:
        out.append(f" · ENDED: {s.ended}", style="bold red")
    elif s.paused:
        out.append(" · PAUSED", style="bold reverse yellow")
    out.append("\nNext   ", style="bold")
    out.append(_next(view))
    out.append("\nTimes  ", style="bold")
    mtta, mttc = (score.mtta, score.mttc) if score else (None, None)
    out.append(f"to acknowledge {duration(mtta)} · to contain {duration(mttc)}")
    out.append("\nYou    ", style="bold")
    out.append(neutralise(f"{view.who} ({view.role})"))
    if view.controls:
        out.append(" · this console drives the clock")
    elif not view.controlled:
        out.append(" · NO CONSOLE DRIVES THE CLOCK: press C to take over", style="bold reverse red")
    else:
        out.append(" · joined: another console drives the clock")
    return out


def _next(view: ExerciseView) -> str:
    s = view.status
    if s.ended:
        return "nothing: the exercise has ended"
    nxt, left = s.next_inject, s.next_in_s
    if nxt is not None and left is not None:
        return neutralise(f"{nxt.id} {nxt.title} — in {_t(left)}")
    waiting = [i for i in s.injects if i.state == "pending"]
    if waiting:
        return f"{waiting[0].id} waits for another inject · time limit in {_t(max(0.0, s.end_after_s - s.exercise_s))}"
    return f"every inject delivered or skipped · time limit in {_t(max(0.0, s.end_after_s - s.exercise_s))}"


def inject_lines(view: ExerciseView, scenario: Scenario) -> Text:
    """Every inject in scenario order: delivered (when, its card, what it set off), skipped (why),
    pending (when it is due); a card addressed to this console's role stands out."""
    delivered = {str(r.data.get("inject")): r for r in view.records if r.type == "inject.delivered"}
    cards = {i.id: i.card for i in scenario.injects}
    out = Text()
    for state in view.status.injects:
        out.append_text(_inject_head(state, view.status.exercise_s))
        record = delivered.get(state.id)
        if record is None:
            continue
        details = record.data.get("details") or {}
        card = cards.get(state.id)
        if card is not None:
            mine = card.to is not None and card.to == view.role
            out.append(
                neutralise(f"      card for {card.to or 'everyone'}: {card.title}") + "\n",
                style=FOR_YOU if mine else "bold",
            )
            for line in (card.body or "").strip().splitlines():
                out.append(neutralise(f"        {line}") + "\n", style="" if not mine else "yellow")
        for part in delivery_parts({k: v for k, v in details.items() if k != "card"}):
            out.append(neutralise(f"      {part}") + "\n", style="dim")
        if record.data.get("fired_by"):
            out.append(neutralise(f"      fired early by {record.data['fired_by']}") + "\n", style="dim")
    return out


def _inject_head(state: InjectState, now: float) -> Text:
    name = neutralise(f"{state.id} {state.title}") + "\n"  # neutralise makes a newline visible: add it after
    if state.state == "delivered":
        return Text.assemble(("✓ ", "green"), f"{_t(state.at_s or 0.0):>9} ", name)
    if state.state == "skipped":
        why = neutralise(f"      {state.why}") + "\n"
        return Text.assemble(("– ", "dim"), (f"{'skipped':>9} ", "dim"), name, (why, "dim"))
    when = f"in {_t(max(0.0, state.due_s - now))}" if state.due_s is not None else "waiting"
    return Text.assemble(("○ ", "cyan"), (f"{when:>9} ", "cyan"), name)


def expectation_lines(scenario: Scenario, score: Score | None) -> Text:
    """Each objective with its rating, and under it each expectation passed, failed or pending (and why)."""
    if score is None:
        return Text("scoring…", style="dim")
    out = Text()
    for objective in score.objectives:
        rating = objective.rating or "—"
        out.append(f"{rating} ", style=RATING.get(rating, "dim"))
        out.append(neutralise(f"{objective.objective.id} {objective.objective.title}") + "\n", style="bold")
        for result in objective.results:
            mark, style = MARK[result.status]
            who = " (facilitator)" if result.source == "facilitator" else ""
            out.append(f"  {mark} ", style=style)
            out.append(neutralise(f"{result.expectation} {result.title}{who}") + "\n")
            out.append(neutralise(f"      {result.status}: {result.why}") + "\n", style="red" if mark == "✗" else "dim")
    return out


def journal_lines(view: ExerciseView, limit: int = JOURNAL_LINES) -> Text:
    """The latest exercise records a person follows (joins, clock, injects, marks, notes, the end)."""
    shown = [r for r in view.records if r.type != "exercise.started"]  # the banner says which exercise
    lines = [line.splitlines()[0] for r in shown if (line := record_line(r.type, r.data)) is not None]
    out = Text()
    for line in lines[-limit:]:
        out.append(neutralise(line) + "\n")
    return out

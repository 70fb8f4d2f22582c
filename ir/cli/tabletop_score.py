"""An exercise's score as a person reads it: at the end of `ir tabletop run --auto` and from
`ir tabletop report` — each objective's rating, the times, the expectation counts, what failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ir.core.text import neutralise


def destructive_actions() -> Any:
    """What `then: [destructive]` in an order expectation means, read from the engine's registry
    (`ir.tabletop.destructive`: stops, deletes, isolates, or cannot be undone and waits for approval)."""
    from ir.actions import default_registry
    from ir.tabletop.destructive import Destructive

    return Destructive.from_actions(default_registry())


def score_lines(data: dict[str, Any]) -> list[str]:
    """Ratings, times and counts of a report's data (`ir.tabletop.aar`), then every failed expectation."""
    from ir.tabletop.aar_markdown import flat

    summary = data["summary"]
    lines = [f"  {o['id']} {o['rating'] or '—'}  {flat(o['title'])}" for o in data["objectives"]]
    lines.append(
        f"  time to acknowledge {summary['time_to_acknowledge']}  time to contain {summary['time_to_contain']}"
        f"  ({summary['passed']} passed, {summary['failed']} failed, {summary['pending']} pending)"
    )
    lines.append(
        f"  acknowledged: {summary['acknowledged_by']}; contained by: {summary['contained_by'] or 'not contained'}"
    )
    for o in data["objectives"]:
        for e in o["expectations"]:
            if e["status"] == "failed":
                lines.append(f"  failed: {e['expectation']} {flat(e['title'])} ({e['kind']}): {flat(e['why'])}")
    return lines


def echo_score(data: dict[str, Any]) -> None:
    """Print `score_lines`, each line neutralised (scenario and journal text is not trusted)."""
    for line in score_lines(data):
        click.echo(neutralise(line))


def print_final_score(folder: Path, *, as_json: bool) -> bool:
    """Score an exercise that just ended and print it (`--json`: one `{"type": "score", …}` line);
    whether an engine expectation (step, order, world, decision) failed."""
    from ir.tabletop.aar import engine_failures, score_exercise

    _played, data = score_exercise(folder, destructive=destructive_actions())
    failed = engine_failures(data)
    if as_json:
        s, times = data["summary"], data["times"]
        score = {
            "exercise": data["exercise"]["id"],
            "ratings": s["ratings"],
            "mtta_s": times["mtta_s"],
            "mttc_s": times["mttc_s"],
            "passed": s["passed"],
            "failed": s["failed"],
            "pending": s["pending"],
            "failed_expectations": [{"id": e["expectation"], "kind": e["kind"], "why": e["why"]} for e in failed],
        }
        click.echo(json.dumps({"type": "score", "data": score}, sort_keys=True, ensure_ascii=True))
        return bool(failed)
    click.echo(neutralise(f"score of {data['exercise']['id']}:"))
    echo_score(data)
    if failed:
        click.echo(f"  {len(failed)} engine expectation(s) failed: the reference response does not solve the scenario")
    click.echo(neutralise(f"  after-action report: ir tabletop report {data['exercise']['id']}"))
    return bool(failed)

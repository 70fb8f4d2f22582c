"""`ir tabletop report EXERCISE`: the after-action report and improvement plan of an exercise."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ir.cli.support import guarded, workspace_of
from ir.core.errors import WorkspaceError
from ir.core.text import neutralise


@click.command("report")
@click.argument("exercise")
@click.option("--json", "as_json", is_flag=True, help="Print the report's data (report.json) on stdout as well.")
@click.pass_context
@guarded
def report_cmd(ctx: click.Context, exercise: str, as_json: bool) -> None:
    """Score EXERCISE (an id under exercises/, or a path) and write report.md, report.json and timeline.svg."""
    from ir.cli.tabletop_score import destructive_actions, echo_score
    from ir.tabletop.aar import write_aar
    from ir.tabletop.sandbox import EXERCISES_DIR, JOURNAL_FILE, find_exercise

    exercises: Path | None = None
    if not (Path(exercise) / JOURNAL_FILE).is_file():
        try:
            exercises = workspace_of(ctx).root / EXERCISES_DIR
        except WorkspaceError:
            exercises = None
    folder = find_exercise(exercise, exercises)
    written = write_aar(folder, destructive=destructive_actions())
    data = written.data
    if as_json:
        click.echo(json.dumps(data, sort_keys=False))
        return
    names = ", ".join(p.name for p in written.paths)
    ex = data["exercise"]
    click.echo(neutralise(f"after-action report of {ex['id']} ({ex['status']}) written to {folder}: {names}"))
    for note in data["notes"]:
        click.echo(neutralise(f"  note: {note}"))
    echo_score(data)
    plan = data["improvement_plan"]
    if plan:
        click.echo(f"  improvement plan: {len(plan)} row(s); owners and dates are edited in improvement.yaml")

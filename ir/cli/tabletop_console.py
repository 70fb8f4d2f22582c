"""The console on an exercise, for `ir tabletop run` (the controller) and `ir tabletop join`.

The CLI builds what the console needs and the TUI may not make: the sandbox's backends behind the
interlock, the participant's signing key in the sandbox, and — for a console that may have to take
the exercise over — how to become the controller (the runtime and the scenario's alert bodies).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ir.core.errors import InputError
from ir.core.signing_trust import KEY_ENV
from ir.core.text import neutralise


def has_terminal() -> bool:
    """Whether a person is at a terminal (stdin and stdout both are one)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def open_console(session: Any, who: str) -> int:
    """Run the console on `session` until it quits; release the session; the app's exit code."""
    from ir.backends import backends_for
    from ir.tabletop.participants import participant_key
    from ir.tui.app import make_app

    sandbox = session.sandbox
    key = participant_key(sandbox, who)  # before the workspace is read: its allowed signers include it
    if key is not None and not os.environ.get(KEY_ENV):
        os.environ[KEY_ENV] = str(key)  # what `who` approves, notes and decides is signed with their exercise key
    ws = sandbox.workspace()
    app = make_app(ws, backends=backends_for(ws), actor=who, exercise=session)
    try:
        app.run()
    finally:
        session.close()
    return int(app.return_code or 0)


def farewell(session: Any, who: str) -> None:
    """Where the exercise is, and what to run next (report it; join or take it over while it is open)."""
    sandbox = session.sandbox
    view = session.view()
    state = f"ended: {view.status.ended}" if view.status.ended else "still open"
    click.echo(neutralise(f"exercise {sandbox.id} {state}: {sandbox.folder}"))
    if not view.status.ended:
        click.echo(neutralise(f"  join or take it over: ir tabletop join {sandbox.id} --as {who}"))
    click.echo(neutralise(f"  score it: ir tabletop report {sandbox.id}"))


def controller_factory(start: Any, sandbox: Any, scenario: Any, who: str) -> Callable[[], Any]:
    """How a console becomes the controller of `sandbox`'s exercise once the one driving it is gone."""

    def take_over() -> Any:
        from ir.cli.tabletop_run import runtime_for
        from ir.tabletop.exercise import Exercise
        from ir.tabletop.injects import alert_bodies
        from ir.tabletop.sessions import ControllerSession

        path = scenario_file(start, sandbox, scenario.id)
        exercise = Exercise.take_over(
            sandbox=sandbox,
            scenario=scenario,
            runtime=runtime_for(sandbox),
            bodies=alert_bodies(scenario, path),
            facilitator=who,
        )
        return ControllerSession(exercise)

    return take_over


def scenario_file(start: Any, sandbox: Any, scenario_id: str) -> Path:
    """The scenario file the exercise started with, beside its alert files: the workspace's
    `tabletop/ID.yaml` when its sha256 is the one `exercise.started` recorded, else the copy in
    the exercise folder (enough for a scenario whose alert bodies are inline)."""
    from ir.tabletop.folder import find_scenario

    started = sandbox.records()[0].data.get("scenario") or {}
    try:
        original = find_scenario(start.tabletop_dir, scenario_id)
    except InputError:
        return Path(sandbox.scenario_path)
    if hashlib.sha256(original.read_bytes()).hexdigest() == started.get("sha256"):
        return original
    return Path(sandbox.scenario_path)

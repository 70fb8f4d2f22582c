"""`ir tabletop join EXERCISE --as WHO`: another console on a running exercise, from another terminal.

While a console (or a headless `ir tabletop run`) drives the exercise, this one follows its
journal and sends its facilitator keys through the exercise's command queue; it records
`participant.joined`. When nothing drives it any more (that process quit leaving it open, or
died), this console takes it over: it becomes the controller, and carries on from the journal.
An ended exercise opens read-only.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from ir.cli.support import actor_of, guarded, workspace_of
from ir.cli.tabletop_console import controller_factory, farewell, has_terminal, open_console
from ir.core.errors import InputError
from ir.core.text import neutralise


@click.command("join")
@click.argument("exercise")
@click.option("--as", "actor", metavar="WHO", help="Who joins (default: $IR_USER or login name).")
@click.option("--role", metavar="ROLE", help="A scenario role, facilitator or observer (default: WHO's role, if any).")
@click.pass_context
@guarded
def join_cmd(ctx: click.Context, exercise: str, actor: str | None, role: str | None) -> None:
    """Open a console on EXERCISE (an id under exercises/, or a path), joining the console that drives it."""
    from ir.core.journal import is_open
    from ir.tabletop.command_queue import Command
    from ir.tabletop.replay import replay
    from ir.tabletop.sandbox import EXERCISES_DIR, Sandbox, find_exercise
    from ir.tabletop.scenario import load_scenario
    from ir.tabletop.sessions import JoinedSession, joined_role

    ws = workspace_of(ctx)
    sandbox = Sandbox(find_exercise(exercise, ws.root / EXERCISES_DIR))
    scenario = load_scenario(sandbox.scenario_path)
    who = actor_of(actor)
    chosen = joined_role(scenario, who, role)
    if not has_terminal():
        raise InputError("ir tabletop join opens a console: it needs a terminal")
    state = replay(sandbox.records())
    take_over = controller_factory(ws, sandbox, scenario, who)
    session: Any
    if state.ended is None and not is_open(sandbox.folder):
        click.echo(neutralise(f"no console drives {sandbox.id}: this one takes it over (clock, injects)"))
        session = take_over()
        session.role = chosen
    else:
        joined = JoinedSession(sandbox, scenario, who, chosen, take_over=take_over)
        if state.ended is None:
            joined.do(Command(op="join", by=who, text=chosen))
        session = joined
    code = open_console(session, who)
    farewell(session, who)
    sys.exit(code)

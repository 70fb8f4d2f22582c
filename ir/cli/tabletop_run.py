"""`ir tabletop run SCENARIO`: start an exercise in a sandbox, and open the console on it — or run it
headless (`--headless`, `--auto`, `--json`, or no terminal).

The CLI builds what tabletop may not import (the action registry, the sandbox's backends behind
the interlock, the simulated world's change port) and hands it to `ir.tabletop.exercise`. The
console is `ir.tui`'s, on the sandbox workspace, driving the exercise (`tabletop_console.py`);
headless, it prints each delivered inject, move and the end (`--json`: every exercise record) and
still serves the commands of consoles that joined (`ir tabletop join`); under `--auto` it prints
the score (exit 1 when an engine expectation failed: the reference response must solve its scenario).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from ir.cli.support import actor_of, guarded, workspace_of
from ir.cli.tabletop_console import farewell, has_terminal, open_console
from ir.cli.tabletop_score import print_final_score
from ir.core.errors import ExitCode, InputError
from ir.core.journal import Record
from ir.core.text import neutralise
from ir.tabletop.record_lines import record_line

AUTO_CLOCK = "fast:10"
"""`--auto`'s clock when none is given (idle waits are jumped over anyway)."""
SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Both end a headless exercise as `interrupted`."""
EXERCISE_ID = re.compile(r"^EX-[A-Za-z0-9._-]{1,120}$")


def runtime_for(sandbox: Any) -> Any:
    """Engines on the sandbox's backends (behind the interlock), its world's change port, labels."""
    from ir.actions import default_registry
    from ir.backends import backends_for
    from ir.backends.world_changes import SimulatedWorldChanges
    from ir.cli.alerts import container_labels
    from ir.core.engine import Engine
    from ir.core.signing_trust import workspace_trust
    from ir.tabletop.ports import Runtime

    ws = sandbox.workspace()
    backends = backends_for(ws)  # the sandbox ir.yaml names the exercise: the guarded backends
    registry, trust = default_registry(), workspace_trust(ws)

    def engine_for(handler: Any, key: Path | None) -> Engine:
        return Engine(
            registry=registry,
            backends=backends,
            workspace=ws.root,
            approvers=ws.settings.approvers,
            on_event=handler,
            trust=trust,
            signing_key=key,
        )

    return Runtime(engine_for, SimulatedWorldChanges(backends.world_store()), container_labels(ws, backends))


def _labels_of(ws: Any) -> Any:
    """Agent → its container's labels on the Docker engine it names (None when not found): the
    interlock's own read, before any sandbox exists (inspecting is all it does)."""
    from ir.backends import WorkspaceBackends
    from ir.core.errors import IrError

    backends = WorkspaceBackends(ws)

    def labels(agent: Any) -> dict[str, str] | None:
        try:
            raw = backends.container_runtime(agent.backend, agent.container.host).inspect_raw(agent.container.ref)
        except IrError:
            return None
        return {str(k): str(v) for k, v in ((raw.get("Config") or {}).get("Labels") or {}).items()}

    return labels


class Printer:
    """Prints exercise records as they are written: a line each (the ones a person follows), or JSON."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, record: Record) -> None:
        if self.as_json:
            out = {"seq": record.seq, "ts": record.ts, "type": record.type, "data": record.data}
            click.echo(json.dumps(out, sort_keys=True, ensure_ascii=True, default=str))
            return
        line = record_line(record.type, record.data)
        for part in (line or "").splitlines():  # each line neutralised: scenario text is not trusted either
            click.echo(neutralise(part))


@click.command("run")
@click.argument("scenario")
@click.option(
    "--clock", "clock_text", metavar="real|fast:N|manual", help=f"Exercise clock (default: real; --auto: {AUTO_CLOCK})."
)
@click.option("--auto", is_flag=True, help="Play the scenario's reference response, skipping idle waits.")
@click.option("--as", "actor", metavar="WHO", help="Who is running the exercise (default: $IR_USER or login name).")
@click.option("--live-fire", is_flag=True, help="Allow a labelled, loopback-only Docker/AWS sandbox (interlocked).")
@click.option("--exercise-id", metavar="EX-…", help="Use this exercise id (live fire: the containers' label value).")
@click.option("--json", "as_json", is_flag=True, help="Every exercise record as a JSON line (headless).")
@click.option("--headless", is_flag=True, help="No console: print the exercise's records as they are written.")
@click.pass_context
@guarded
def run_cmd(
    ctx: click.Context,
    scenario: str,
    clock_text: str | None,
    auto: bool,
    actor: str | None,
    live_fire: bool,
    exercise_id: str | None,
    as_json: bool,
    headless: bool,
) -> None:
    """Run SCENARIO as an exercise in a sandbox workspace under exercises/, in the console (headless
    with --headless, --auto, --json or no terminal)."""
    from ir.core.inventory import Inventory
    from ir.core.yamlsafe import YamlInputError, load_file
    from ir.tabletop.clock import parse_clock
    from ir.tabletop.folder import find_scenario
    from ir.tabletop.interlock import check
    from ir.tabletop.sandbox import new_exercise_id
    from ir.tabletop.scenario import load_scenario

    ws = workspace_of(ctx)
    path = find_scenario(ws.tabletop_dir, scenario)
    loaded = load_scenario(path)
    try:
        located = load_file(path)
    except YamlInputError:  # load_scenario read it a moment ago; only positions are lost
        located = None
    clock = parse_clock(clock_text or (AUTO_CLOCK if auto else "real"))
    if exercise_id is not None and not EXERCISE_ID.match(exercise_id):
        raise InputError(f"--exercise-id {exercise_id!r}: expected EX- followed by letters, digits, . _ -")
    who = actor_of(actor)
    agents = Inventory.model_validate({"agents": loaded.world.agents}).agents
    chosen = exercise_id or new_exercise_id(loaded.id)
    check(
        agents,
        live_fire=live_fire,
        exercise_id=chosen,
        env=os.environ,
        aws=ws.settings.aws,
        docker=ws.settings.docker,
        labels_of=_labels_of(ws) if live_fire else None,
        where=str(path),
    )
    if not (headless or auto or as_json) and has_terminal():
        fixed = chosen if exercise_id or live_fire else None  # live fire: the id the interlock checked
        sys.exit(_console(ws, loaded, path, located, clock, live_fire=live_fire, who=who, exercise_id=fixed))
    deferred: list[int] = []  # Ctrl-C while the folder is being made ends the exercise once it exists
    before = {sig: signal.signal(sig, lambda signum, _frame: deferred.append(signum)) for sig in SIGNALS}
    try:
        reason, folder = _run(
            ws,
            loaded,
            path,
            located,
            clock,
            auto=auto,
            live_fire=live_fire,
            who=who,
            exercise_id=chosen if exercise_id or live_fire else None,
            as_json=as_json,
            deferred=deferred,
        )
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    if reason == "interrupted":
        sys.exit(int(ExitCode.INTERRUPTED))
    # --auto proves the scenario solvable: an engine expectation it fails is a failure (exit 1)
    failed = auto and print_final_score(folder, as_json=as_json)
    sys.exit(int(ExitCode.STEP_FAILED if failed else ExitCode.OK))


def _run(
    ws: Any,
    loaded: Any,
    path: Path,
    located: Any,
    clock: Any,
    *,
    auto: bool,
    live_fire: bool,
    who: str,
    exercise_id: str | None,
    as_json: bool,
    deferred: list[int],
) -> tuple[str | None, Path]:
    """Begin the exercise, drive it to its end (or Ctrl-C); why it ended, and its folder."""
    from ir.tabletop.exercise import Exercise
    from ir.tabletop.sessions import ControllerSession

    exercise = Exercise.begin(
        start=ws,
        scenario=loaded,
        scenario_file=path,
        runtime_for=runtime_for,
        clock=clock,
        auto=auto,
        live_fire=live_fire,
        facilitator=who,
        exercise_id=exercise_id,
        located=located,
        on_record=Printer(as_json),
    )
    for sig in SIGNALS:
        signal.signal(sig, _interrupt)
    reason: str | None
    try:
        if deferred:
            raise KeyboardInterrupt
        if auto and clock.text != "real":
            reason = exercise.run_auto()
        else:  # other consoles may join: serve their commands between ticks
            reason = exercise.run_realtime(threading.Event(), also=ControllerSession(exercise).serve)
    except KeyboardInterrupt:
        exercise.end("interrupted", who)
        reason = "interrupted"
    finally:
        exercise.close()
    if not as_json:
        click.echo(f"exercise folder: {exercise.sandbox.folder}")
        click.echo(f"  cases: ir -w {exercise.sandbox.workspace_root} cases")
    return reason, exercise.sandbox.folder


def _console(
    ws: Any, loaded: Any, path: Path, located: Any, clock: Any, *, live_fire: bool, who: str, exercise_id: str | None
) -> int:
    """Begin the exercise and open the console on it, this process driving its clock."""
    from ir.tabletop.exercise import Exercise
    from ir.tabletop.sessions import ControllerSession

    exercise = Exercise.begin(
        start=ws,
        scenario=loaded,
        scenario_file=path,
        runtime_for=runtime_for,
        clock=clock,
        live_fire=live_fire,
        facilitator=who,
        exercise_id=exercise_id,
        located=located,
    )
    session = ControllerSession(exercise)
    code = open_console(session, who)
    farewell(session, who)
    return code


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt

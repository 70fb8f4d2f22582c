"""`ir tabletop run SCENARIO`: start an exercise in a sandbox and run it headless.

The CLI builds what tabletop may not import (the action registry, the sandbox's backends behind
the interlock, the simulated world's change port) and hands it to `ir.tabletop.exercise`; it
prints each delivered inject, move and the end (`--json`: every exercise record), and under
`--auto` the score (exit 1 when an engine expectation failed: the reference response must solve
its scenario).
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
from ir.cli.tabletop_score import print_final_score
from ir.core.errors import ExitCode, InputError
from ir.core.journal import Record
from ir.core.text import neutralise

AUTO_CLOCK = "fast:10"
"""`--auto`'s clock when none is given (idle waits are jumped over anyway)."""
SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Both end a headless exercise as `interrupted`."""
EXERCISE_ID = re.compile(r"^EX-[A-Za-z0-9._-]{1,120}$")


def runtime_for(sandbox: Any) -> Any:
    """Engines on the sandbox's backends (behind the interlock), its world's change port, labels."""
    from ir.actions import default_registry
    from ir.backends.exercise_guard import ExerciseBackends
    from ir.backends.world_changes import SimulatedWorldChanges
    from ir.cli.alerts import container_labels
    from ir.core.engine import Engine
    from ir.core.signing_trust import workspace_trust
    from ir.tabletop.ports import Runtime

    ws = sandbox.workspace()
    backends = ExerciseBackends(ws, sandbox.id)
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
    """Agent → its container's labels on the Docker engine it names (None when not found)."""
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


def _clock(text: str) -> str:
    m, s = divmod(int(float(text)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:2d}:{s:02d}"


class Printer:
    """Prints exercise records as they are written: a line each (the ones a person follows), or JSON."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, record: Record) -> None:
        if self.as_json:
            out = {"seq": record.seq, "ts": record.ts, "type": record.type, "data": record.data}
            click.echo(json.dumps(out, sort_keys=True, ensure_ascii=True, default=str))
            return
        line = self.line(record.type, record.data)
        for part in (line or "").splitlines():  # each line neutralised: scenario text is not trusted either
            click.echo(neutralise(part))

    def line(self, kind: str, data: Any) -> str | None:
        """The line for one record, or None for bookkeeping (checkpoints, the auto clock's jumps)."""
        at = f"[{_clock(str(data.get('exercise_s', 0)))}]"
        if kind == "exercise.started":
            sc = data["scenario"]
            mode = ", reference response (--auto)" if data.get("auto") else ""
            fire = ", LIVE FIRE" if data.get("live_fire") else ""
            said = f"{sc['id']} {sc['version']}; clock {data['clock']}{mode}{fire}"
            return f"EXERCISE {data['exercise']}: {sc['title']} ({said})"
        if kind == "participant.joined":
            return f"{at} {data['as']} joined as {data['role']}"
        if kind == "inject.delivered":
            return f"{at} inject {data['inject']} delivered: {data['title']}" + "".join(
                f"\n         {part}" for part in _parts(data.get("details") or {})
            )
        if kind == "inject.skipped":
            return f"{at} inject {data['inject']} skipped: {data['why']}"
        if kind == "move.played":
            about = f" {data['agent']}" if data.get("agent") else ""
            return f"{at} move {data['move']} {data['what']}{about} by {data['by']}: {_result(data['result'])}"
        if kind == "clock.advanced":
            return None if data.get("by") == "auto" else f"{at} clock advanced {data['seconds']}s by {data['by']}"
        if kind == "clock.paused":
            return f"{at} clock paused by {data['by']}"
        if kind == "clock.resumed":
            return f"{at} clock resumed by {data['by']} after {data['paused_s']}s"
        if kind == "expectation.marked":
            return (
                f"{at} expectation {data['expectation']} {'passed' if data['passed'] else 'failed'} (by {data['by']})"
            )
        if kind == "note":
            return f"{at} note by {data['by']}: {data['text']}"
        if kind == "exercise.ended":
            return f"{at} exercise ended: {data['reason']} (by {data['by']})"
        return None


def _parts(details: dict[str, Any]) -> list[str]:
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


@click.command("run")
@click.argument("scenario")
@click.option(
    "--clock", "clock_text", metavar="real|fast:N|manual", help=f"Exercise clock (default: real; --auto: {AUTO_CLOCK})."
)
@click.option("--auto", is_flag=True, help="Play the scenario's reference response, skipping idle waits.")
@click.option("--as", "actor", metavar="WHO", help="Who is running the exercise (default: $IR_USER or login name).")
@click.option("--live-fire", is_flag=True, help="Allow a labelled, loopback-only Docker/AWS sandbox (interlocked).")
@click.option("--exercise-id", metavar="EX-…", help="Use this exercise id (live fire: the containers' label value).")
@click.option("--json", "as_json", is_flag=True, help="Every exercise record as a JSON line.")
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
) -> None:
    """Run SCENARIO as an exercise in a sandbox workspace under exercises/ (headless)."""
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
    try:
        if deferred:
            raise KeyboardInterrupt
        reason = exercise.run_auto() if auto and clock.text != "real" else exercise.run_realtime(threading.Event())
    except KeyboardInterrupt:
        exercise.end("interrupted", who)
        reason = "interrupted"
    finally:
        exercise.close()
    if not as_json:
        click.echo(f"exercise folder: {exercise.sandbox.folder}")
        click.echo(f"  cases: ir -w {exercise.sandbox.workspace_root} cases")
    return reason, exercise.sandbox.folder


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt

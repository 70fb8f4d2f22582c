"""`ir contain`, `ir alerts …` and `ir agents affected`: the alert path from the command line."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import click

from ir.cli.support import actor_of, guarded, workspace_of
from ir.core.errors import ExitCode, InputError
from ir.core.text import neutralise

BODY_LIMIT = 1024 * 1024
"""The largest alert body accepted (the same cap as `ir serve`)."""


def runtime(ws: Any, *, on_event: Any = None, inbox: Any = None) -> tuple[Any, Any, Any]:
    """The inbox, a pipeline and its local executor (a fresh engine per case) for `ws`."""
    from ir.actions import default_registry
    from ir.alerts.executor import LocalExecutor
    from ir.alerts.inbox import Inbox
    from ir.alerts.pipeline import Pipeline
    from ir.backends import backends_for
    from ir.core.engine import Engine
    from ir.core.signing_trust import workspace_trust

    settings = ws.settings.alerts
    backends = backends_for(ws)  # one AWS session and Docker pool for every case (~0.1 s of CPU each)
    trust = workspace_trust(ws)  # read once, not per case

    def engine_for(handler: Any) -> Engine:
        return Engine(
            registry=default_registry(),
            backends=backends,
            workspace=ws.root,
            approvers=ws.settings.approvers,
            on_event=handler,
            trust=trust,
        )

    executor = LocalExecutor(
        ws, engine_for, actor=settings.service.principal, parallel=settings.fleet.parallel, on_event=on_event
    )
    inbox = inbox or Inbox(ws.path(settings.inbox))
    labels = container_labels(ws, backends)
    return inbox, Pipeline(ws, inbox, executor, container_labels=labels, trust=trust), executor


def container_labels(ws: Any, backends: Any) -> Any:
    """Container ref → labels, read from the runtime of the workspace's agents (None when unknown)."""
    kinds = sorted({agent.backend for agent in ws.inventory.agents.values() if agent.container})

    def lookup(ref: str) -> dict[str, str] | None:
        from ir.core.errors import IrError

        for kind in kinds:
            try:
                raw = backends.container_runtime(kind, None).inspect_raw(ref)
            except IrError:
                continue
            labels = (raw.get("Config") or {}).get("Labels") or {}
            return {str(k): str(v) for k, v in labels.items()}
        return None

    return lookup


def _read_body(alert: str) -> tuple[bytes, str]:
    where = "stdin" if alert == "-" else alert
    try:
        if alert == "-":
            body = sys.stdin.buffer.read(BODY_LIMIT + 1)
        else:
            with open(alert, "rb") as handle:
                body = handle.read(BODY_LIMIT + 1)
    except OSError as exc:
        raise InputError(f"{where}: cannot read the alert: {exc.strerror or exc}") from None
    if len(body) > BODY_LIMIT:
        raise InputError(f"{where}: alert larger than {BODY_LIMIT} bytes")
    return body, where


@click.command("contain")
@click.option("--alert", "alert", required=True, metavar="FILE|-", help="The alert body (JSON), or - for stdin.")
@click.option(
    "--source",
    "source",
    metavar="FORMAT",
    type=click.Choice(["alertmanager", "eventbridge", "falco", "cloudevents"]),
    help="Its format (default: recognised from the body).",
)
@click.option("--dry-run", is_flag=True, help="Which agents and route it reaches, what would run; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Engine events as JSON lines, then one summary object per alert.")
@click.pass_context
@guarded
def contain_cmd(ctx: click.Context, alert: str, source: str | None, dry_run: bool, as_json: bool) -> None:
    """Contain what an alert is about: inbox → agent(s) → route → case(s), headless."""
    from ir.alerts.formats import decode, detect, normalise

    ws = workspace_of(ctx)
    body, where = _read_body(alert)
    try:
        fmt = source or detect(decode(body))
        alerts = normalise(fmt, decode(body), source=fmt)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    if dry_run:
        _dry_run(ws, alerts, as_json)
        return
    lock = threading.Lock()

    def show(_request: Any, event: Any) -> None:
        if as_json:
            with lock:
                click.echo(json.dumps(event.as_dict(), sort_keys=True, ensure_ascii=True, default=str))

    inbox, pipeline, _executor = runtime(ws, on_event=show)
    accepted = inbox.accept(source=fmt, fmt=fmt, body=body, delivery_key=None, headers={}, via="cli")
    settled = pipeline.process(accepted.id)
    rows = inbox.alerts_of(accepted.id)
    if accepted.duplicate and not settled:
        click.echo(f"{where}: already in the inbox as {accepted.id}: nothing new (ir alerts show {accepted.id})")
    for row in rows:
        _print_row(row, as_json)
    delivery = inbox.delivery(accepted.id)
    if delivery is not None and delivery.state == "rejected":
        raise InputError(f"{where}: rejected: {delivery.reason}")
    sys.exit(int(_exit_code(rows)))


def _dry_run(ws: Any, alerts: list[Any], as_json: bool) -> None:
    from ir.alerts.pipeline import Pipeline

    _inbox, pipeline, _executor = runtime(ws)
    assert isinstance(pipeline, Pipeline)
    for alert in alerts:
        preview = pipeline.preview(alert)
        if as_json:
            click.echo(json.dumps(preview, sort_keys=True, ensure_ascii=True))
            continue
        click.echo(f"alert {alert.index}: {neutralise(alert.title)} [{alert.severity}, {alert.status}]")
        for line in preview["lines"]:
            click.echo(f"  {neutralise(line)}")


def _exit_code(rows: list[Any]) -> ExitCode:
    """The worst of: a case that failed or could not start (its code, else 1); then 4 when anything
    waits — an agent for a person, a step for approval; else 0."""
    code = ExitCode.OK
    waits = False
    for row in rows:
        waits = waits or row.outcome == "waiting"
        if row.outcome == "failed" and not row.cases:
            code = max(code, ExitCode.STEP_FAILED)
        for case in row.cases:
            status = case.get("status")
            if status in ("failed", "errored", "incomplete", "interrupted", "error") or case.get("how") == "failed":
                code = ExitCode(max(int(code), int(case.get("exit_code") or ExitCode.STEP_FAILED)))
            waits = waits or status == "awaiting_approval" or case.get("how") == "waiting"
    if code == ExitCode.OK and waits:
        code = ExitCode.APPROVAL
    return code


def _print_row(row: Any, as_json: bool) -> None:
    if as_json:
        out = {
            "summary": True,
            "alert": row.ref,
            "outcome": row.outcome,
            "reason": row.reason,
            "route": row.route,
            "policy": row.policy,
            "resolution": row.resolution,
            "cases": row.cases,
        }
        click.echo(json.dumps(out, sort_keys=True, ensure_ascii=True))
        return
    alert = row.alert
    title, reason = neutralise(alert.title), neutralise(row.reason)
    click.echo(f"alert {row.ref} {row.outcome}: {title} [{alert.severity}] — {reason}")
    res = row.resolution
    if res:
        agents = neutralise(", ".join(res.get("agents") or [])) or "none"
        click.echo(f"  agents: {agents} ({res.get('state')}: {neutralise(res.get('detail', ''))})")
    for case in row.cases:
        bits = [f"  {neutralise(str(case.get('agent')))}: {case.get('how')}"]
        if case.get("case"):
            bits.append(f"case {case['case']}")
        if case.get("status"):
            bits.append(str(case["status"]))
        if case.get("waiting_for"):
            bits.append(f"waits for approval: {', '.join(case['waiting_for'])}")
        if case.get("still_live"):
            bits.append(f"still live: {len(case['still_live'])}")
        if case.get("why") or case.get("message"):
            bits.append(neutralise(str(case.get("why") or case.get("message"))))
        click.echo(" — ".join(bits))
        for line in case.get("plan") or ():
            click.echo(f"    {neutralise(line)}")


@click.group("alerts", invoke_without_command=True)
@click.pass_context
def alerts_group(ctx: click.Context) -> None:
    """The alert inbox and what became of each alert (default: list)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(alerts_list)


@alerts_group.command("list")
@click.option("--outcome", help="Only alerts with this outcome (new, contained, folded, waiting, duplicate, …).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per alert.")
@click.pass_context
@guarded
def alerts_list(ctx: click.Context, outcome: str | None = None, as_json: bool = False) -> None:
    """Alerts, newest first, with their outcome; rejected deliveries too."""
    from ir.alerts.inbox import Inbox

    ws = workspace_of(ctx)
    inbox = Inbox(ws.path(ws.settings.alerts.inbox))
    breaker = inbox.breaker()
    if breaker.open and not as_json:
        click.echo(f"AUTOMATION STOPPED by the breaker since {breaker.since}: {neutralise(breaker.reason)}")
    rows = inbox.alerts(outcome=outcome)
    if as_json:
        for row in rows:
            _print_row(row, True)
        return
    click.echo(f"{'ALERT':<8} {'OUTCOME':<10} {'SEVERITY':<9} {'SOURCE':<14} {'AGENTS':<24} TITLE")
    for row in rows:
        agents = neutralise(",".join(row.resolution.get("agents") or [])) or "-"
        click.echo(
            f"{row.ref:<8} {row.outcome:<10} {row.alert.severity:<9} {neutralise(row.alert.source)[:14]:<14} "
            f"{agents[:24]:<24} {neutralise(row.alert.title)[:60]}"
        )
    for delivery in inbox.deliveries():
        if delivery.state in ("rejected", "failed") and outcome in (None, delivery.state):
            why = neutralise(delivery.reason or "")[:80]
            click.echo(f"{delivery.id:<8} {delivery.state:<10} {'-':<9} {delivery.source[:14]:<14} {'-':<24} {why}")


@alerts_group.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="As one JSON object.")
@click.pass_context
@guarded
def alerts_show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """One alert (DELIVERY.INDEX, or DELIVERY for a one-alert delivery): what it said and what became of it."""
    from ir.alerts.inbox import Inbox

    ws = workspace_of(ctx)
    inbox = Inbox(ws.path(ws.settings.alerts.inbox))
    row = inbox.find(ref)
    if row is None:
        delivery = inbox.delivery(int(ref)) if ref.isdigit() else None
        if delivery is None:
            raise InputError(f"no alert {ref!r} in {inbox.path} (ir alerts list)")
        click.echo(f"delivery {delivery.id} from {delivery.source} at {delivery.received}: {delivery.state}")
        click.echo(f"  sha256 {delivery.sha256}, {len(delivery.body)} bytes, via {delivery.via}")
        if delivery.reason:
            click.echo(f"  {neutralise(delivery.reason)}")
        for row in inbox.alerts_of(delivery.id):
            _print_row(row, as_json)
        return
    _print_row(row, as_json)
    if not as_json:
        click.echo(f"  source {neutralise(row.alert.source)} ({row.alert.kind}), id {neutralise(row.alert.source_id)}")
        click.echo(f"  incident {neutralise(row.incident_key)}, observed {row.alert.observed or 'unknown'}")


@alerts_group.command("process")
@click.pass_context
@guarded
def alerts_process(ctx: click.Context) -> None:
    """Finish every delivery not yet processed (after a crash of `ir serve`); cases cut short are resumed."""
    ws = workspace_of(ctx)
    inbox, pipeline, _executor = runtime(ws)
    settled = pipeline.process_pending()
    click.echo(f"processed {len(settled)} alert(s)")
    for item in settled:
        row = inbox.find(item.ref)
        if row is not None:
            _print_row(row, False)


@alerts_group.command("breaker")
@click.argument("action", type=click.Choice(["show", "reset"]), default="show")
@click.option("--as", "actor", metavar="WHO", help="Who resets it (default: $IR_USER or login name).")
@click.option("--reason", metavar="TEXT", help="Why automation may resume (recorded).")
@click.pass_context
@guarded
def alerts_breaker(ctx: click.Context, action: str, actor: str | None, reason: str | None) -> None:
    """Show the breaker, or reset it so automatic containment resumes (waiting alerts stay waiting)."""
    from ir.alerts.inbox import Inbox

    ws = workspace_of(ctx)
    inbox = Inbox(ws.path(ws.settings.alerts.inbox))
    if action == "reset":
        if not reason:
            raise InputError("resetting the breaker needs --reason (it is recorded with who)")
        inbox.set_breaker(open_=False, reason=reason, by=actor_of(actor))
    state = inbox.breaker()
    said = "OPEN: automation stopped" if state.open else "closed: automation runs"
    since = f" since {state.since} ({neutralise(state.reason)}, by {state.by})" if state.since else ""
    click.echo(f"breaker {said}{since}")


@alerts_group.command("dismiss")
@click.argument("ref")
@click.option("--reason", required=True, metavar="TEXT", help="Why nothing is done about it (recorded).")
@click.option("--as", "actor", metavar="WHO", help="Who dismisses it (default: $IR_USER or login name).")
@click.pass_context
@guarded
def alerts_dismiss(ctx: click.Context, ref: str, reason: str, actor: str | None) -> None:
    """A person decides a waiting alert needs nothing."""
    from ir.alerts.inbox import Inbox

    ws = workspace_of(ctx)
    inbox = Inbox(ws.path(ws.settings.alerts.inbox))
    row = inbox.find(ref)
    if row is None:
        raise InputError(f"no alert {ref!r} in {inbox.path} (ir alerts list)")
    if row.outcome != "waiting":
        raise InputError(f"alert {row.ref} is {row.outcome}, not waiting: nothing to dismiss")
    inbox.settle(row.id, "dismissed", f"dismissed by {actor_of(actor)}: {reason}")
    click.echo(f"alert {row.ref} dismissed")


@alerts_group.command("assign")
@click.argument("ref")
@click.option("--agent", "agents", multiple=True, required=True, help="The agent it is about (repeatable).")
@click.option("--as", "actor", metavar="WHO", help="Who decides (default: $IR_USER or login name).")
@click.pass_context
@guarded
def alerts_assign(ctx: click.Context, ref: str, agents: tuple[str, ...], actor: str | None) -> None:
    """A person names the agent(s) of a waiting alert; its route then runs for them."""
    ws = workspace_of(ctx)
    inbox, pipeline, _executor = runtime(ws)
    row = inbox.find(ref)
    if row is None:
        raise InputError(f"no alert {ref!r} in {inbox.path} (ir alerts list)")
    for agent in agents:
        ws.inventory.get(agent, str(ws.inventory_path))
    pipeline.assign(row, agents, actor_of(actor))
    final = inbox.find(ref)
    _print_row(final, False)
    sys.exit(int(_exit_code([final])))


@alerts_group.command("lint")
@click.pass_context
@guarded
def alerts_lint(ctx: click.Context) -> None:
    """Check `ir.yaml` routes: each playbook exists and takes the params given (file:line)."""
    from ir.alerts.route import lint_routes
    from ir.core.playbook import list_playbooks

    ws = workspace_of(ctx)
    books = {p.playbook.id: set(p.playbook.params) for p in list_playbooks(ws.playbooks_dir).playbooks}
    problems = lint_routes(ws.settings_path, ws.settings.alerts.routes, books)
    for line in problems:
        click.echo(line, err=True)
    if problems:
        sys.exit(int(ExitCode.BAD_INPUT))
    click.echo(f"{len(ws.settings.alerts.routes)} route(s), {len(ws.settings.alerts.sources)} source(s): ok")


@click.command("affected")
@click.option("--credential", default="", metavar="X", help="An access key id, IAM user or role, secret id…")
@click.option("--image", default="", metavar="X", help="A container image.")
@click.option("--host", default="", metavar="X", help="A host name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per agent.")
@click.pass_context
@guarded
def agents_affected(ctx: click.Context, credential: str, image: str, host: str, as_json: bool) -> None:
    """Which agents share this credential, image or host?"""
    from ir.alerts.resolve import affected

    if not (credential or image or host):
        raise InputError("say what is shared: --credential, --image or --host")
    ws = workspace_of(ctx)
    found = affected(ws.inventory, credential=credential, image=image, host=host)
    if as_json:
        for agent, why in found:
            click.echo(json.dumps({"agent": agent, "why": why}, sort_keys=True))
        return
    if not found:
        click.echo("no agent of the inventory shares it")
        return
    for agent, why in found:
        click.echo(f"{agent:<24} {why}")


__all__ = ["Path", "agents_affected", "alerts_group", "contain_cmd"]

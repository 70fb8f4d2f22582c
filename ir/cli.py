"""The `ir` command line: a thin click layer that builds objects and calls the core."""

from __future__ import annotations

import getpass
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from ir.core.errors import ExitCode, InputError, IrError
from ir.core.text import neutralise

HELP = "Incident response for AI agents: disable, snapshot, revoke, reconstruct, record, rehearse."


def fail(message: str, code: ExitCode) -> NoReturn:
    """Print one plain error line on stderr and exit with `code`."""
    click.echo(f"ir: error: {neutralise(message)}", err=True)
    sys.exit(int(code))


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ir errors into one line on stderr and the documented exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IrError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", ExitCode.INTERRUPTED)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _workspace(ctx: click.Context) -> Any:
    from ir.core.workspace import find_workspace

    return find_workspace(ctx.obj.get("workspace"))


def _actor(explicit: str | None) -> str:
    if explicit:
        return explicit
    return os.environ.get("IR_USER") or getpass.getuser()


@click.group(invoke_without_command=True, help=HELP)
@click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False),
    envvar="IR_WORKSPACE",
    help="Workspace folder (default: nearest parent holding ir.yaml).",
)
@click.version_option(package_name="agent-ir", prog_name="ir")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None) -> None:
    """Incident response for AI agents."""
    from ir.core.redaction import register_environment

    register_environment()  # secret-looking environment values are masked in everything ir writes
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui_cmd)


@cli.command("tui")
@click.option("--as", "actor", metavar="WHO", help="Who is at the keyboard (default: $IR_USER or login name).")
@click.pass_context
@guarded
def tui_cmd(ctx: click.Context, actor: str | None = None) -> None:
    """Open the terminal UI on the workspace (the same as `ir` alone)."""
    from ir.tui.app import make_app

    make_app(_workspace(ctx), actor=_actor(actor)).run()


@cli.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@guarded
def init_cmd(directory: str) -> None:
    """Scaffold a workspace in DIRECTORY (ir.yaml, agents.yaml, playbooks/, cases/)."""
    from ir.scaffold import init_workspace

    created = init_workspace(Path(directory))
    for path in created:
        click.echo(f"created {path}")


@cli.group("agents")
def agents_group() -> None:
    """The agent inventory (agents.yaml)."""


@agents_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per agent.")
@click.pass_context
@guarded
def agents_list(ctx: click.Context, as_json: bool) -> None:
    """List agents with status, owner and backend."""
    ws = _workspace(ctx)
    agents = ws.inventory.agents
    if as_json:
        for agent in agents.values():
            click.echo(json.dumps(agent.model_dump(mode="json"), sort_keys=True))
        return
    if not agents:
        click.echo(f"no agents in {ws.inventory_path}")
        return
    from ir.core.case import agent_status, list_cases

    cases = list_cases(ws.cases_dir)
    click.echo(f"{'AGENT':<20} {'STATUS':<15} {'BACKEND':<10} {'OWNER':<28} {'PURPOSE':<40} CASE")
    for agent in agents.values():
        status, case_id = agent_status(cases, agent.id, str(agent.status))
        click.echo(
            f"{agent.id:<20} {status:<15} {agent.backend:<10} {agent.owner:<28} {agent.purpose[:40]:<40} "
            f"{case_id or ''}".rstrip()
        )


@agents_group.command("show")
@click.argument("agent_id")
@click.pass_context
@guarded
def agents_show(ctx: click.Context, agent_id: str) -> None:
    """Show one agent's inventory entry: container, credentials, hosts, logs."""
    import yaml

    ws = _workspace(ctx)
    agent = ws.inventory.get(agent_id, str(ws.inventory_path))
    click.echo(yaml.safe_dump(agent.model_dump(mode="json", exclude_defaults=False), sort_keys=False).rstrip())


@cli.group("playbook")
def playbook_group() -> None:
    """Playbooks: list, show, lint, and the JSON Schema for editors."""


@playbook_group.command("list")
@click.pass_context
@guarded
def playbook_list(ctx: click.Context) -> None:
    """List the workspace's playbooks with version and title."""
    from ir.core.errors import PlaybookError
    from ir.core.playbook import load_playbook, playbook_files

    ws = _workspace(ctx)
    for path in playbook_files(ws.playbooks_dir):
        try:
            book = load_playbook(path).playbook
            click.echo(f"{book.id:<28} {book.version:<10} {book.title}")
        except PlaybookError as exc:
            click.echo(f"{path.stem:<28} {'invalid':<10} {exc}")


@playbook_group.command("show")
@click.argument("playbook_id")
@click.pass_context
@guarded
def playbook_show(ctx: click.Context, playbook_id: str) -> None:
    """Show a playbook: params, steps, approvals and guidance."""
    from ir.core.playbook import find_playbook

    ws = _workspace(ctx)
    loaded = find_playbook(ws.playbooks_dir, playbook_id)
    book = loaded.playbook
    click.echo(f"{book.id} {book.version} — {book.title}\nsource {loaded.source}\nsha256 {loaded.sha256}\n")
    if book.description:
        click.echo(book.description.rstrip() + "\n")
    for name, spec in book.params.items():
        click.echo(f"param {name} ({spec.type}, default {spec.default!r}): {spec.description}")
    for i, step in enumerate(book.steps, 1):
        gate = "  [approval required]" if step.approval.required else ""
        when = f"  when {step.when}" if step.when is not None else ""
        click.echo(f"\n{i}. {step.id} — {step.title}\n   action {step.action}{gate}{when}")
        if step.with_:
            click.echo(f"   with {json.dumps(step.with_, sort_keys=True)}")
        for line in step.guidance.strip().splitlines():
            click.echo(f"   | {line}")


@playbook_group.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.pass_context
@guarded
def playbook_lint(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Check playbooks (the workspace's, or PATHS); file:line:col messages, non-zero on problems."""
    from ir.actions import default_registry
    from ir.core.errors import PlaybookError
    from ir.core.lint import lint
    from ir.core.playbook import load_playbook, playbook_files

    files = [Path(p) for p in paths] if paths else playbook_files(_workspace(ctx).playbooks_dir)
    if not files:
        fail("no playbooks to lint", ExitCode.BAD_INPUT)
    registry, bad = default_registry(), 0
    for path in files:
        try:
            problems = lint(load_playbook(path), registry)
        except PlaybookError as exc:
            problems = [str(exc)]
        for problem in problems:
            click.echo(neutralise(problem), err=True)
        bad += len(problems)
        if not problems:
            click.echo(f"{path}: ok")
    if bad:
        fail(f"{bad} problem(s) in {len(files)} playbook(s)", ExitCode.BAD_INPUT)


@playbook_group.command("schema")
def playbook_schema() -> None:
    """Print the JSON Schema of playbooks (with each action's arguments) for editors."""
    from ir.actions import default_registry
    from ir.schema import playbook_json_schema

    click.echo(json.dumps(playbook_json_schema(default_registry()), indent=2, sort_keys=True))


def _parse_pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"{what} {item!r}: expected KEY=VALUE")
        pairs[key.strip()] = value
    return pairs


def _engine(ws: Any, as_json: bool) -> Any:
    from ir.actions import default_registry
    from ir.backends import WorkspaceBackends
    from ir.console import EventPrinter
    from ir.core.engine import Engine

    return Engine(
        registry=default_registry(),
        backends=WorkspaceBackends(ws),
        workspace=ws.root,
        approvers=ws.settings.approvers,
        on_event=EventPrinter(as_json=as_json),
    )


def _finish(summary: Any, as_json: bool) -> None:
    from ir.console import print_summary

    print_summary(summary, sys.stdout, as_json=as_json)
    if summary.exit_code and summary.message and not as_json:
        click.echo(f"ir: {neutralise(summary.message)}", err=True)
    sys.exit(int(summary.exit_code))


def _terminate_as_interrupt() -> None:
    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@cli.command("run")
@click.argument("playbook")
@click.option("--agent", "agent_id", required=True, help="Inventory id of the agent.")
@click.option("--param", "params", multiple=True, metavar="K=V", help="Playbook parameter (repeatable).")
@click.option("--dry-run", is_flag=True, help="Show each step's plan from real state; change nothing.")
@click.option("--yes", "approve_all", is_flag=True, help="Approve every step that needs approval.")
@click.option("--approve", multiple=True, metavar="STEP", help="Approve one step (repeatable).")
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="STEP=REASON",
    help="Let a destructive step run without a successful evidence step; the reason is journalled.",
)
@click.option("--as", "actor", metavar="WHO", help="Who is running this (default: $IR_USER or login name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line, then a summary object.")
@click.pass_context
@guarded
def run_cmd(
    ctx: click.Context,
    playbook: str,
    agent_id: str,
    params: tuple[str, ...],
    dry_run: bool,
    approve_all: bool,
    approve: tuple[str, ...],
    overrides: tuple[str, ...],
    actor: str | None,
    as_json: bool,
) -> None:
    """Run PLAYBOOK against an agent: a new case, journalled step by step."""
    from ir.core.events import RunOptions
    from ir.core.playbook import find_playbook

    _terminate_as_interrupt()
    ws = _workspace(ctx)
    agent = ws.inventory.get(agent_id, str(ws.inventory_path))
    loaded = find_playbook(ws.playbooks_dir, playbook)
    options = RunOptions(
        actor=_actor(actor),
        dry_run=dry_run,
        approve_all=approve_all,
        approve=frozenset(approve),
        overrides=_parse_pairs(overrides, "--override"),
    )
    summary = _engine(ws, as_json).start(
        loaded=loaded, agent=agent, params=_parse_pairs(params, "--param"), cases_dir=ws.cases_dir, options=options
    )
    _finish(summary, as_json)


@cli.command("resume")
@click.argument("case")
@click.option("--yes", "approve_all", is_flag=True, help="Approve every step that needs approval.")
@click.option("--approve", multiple=True, metavar="STEP", help="Approve one step (repeatable).")
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="STEP=REASON",
    help="Let a destructive step run without a successful evidence step.",
)
@click.option("--as", "actor", metavar="WHO", help="Who is resuming (default: $IR_USER or login name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line, then a summary object.")
@click.pass_context
@guarded
def resume_cmd(
    ctx: click.Context,
    case: str,
    approve_all: bool,
    approve: tuple[str, ...],
    overrides: tuple[str, ...],
    actor: str | None,
    as_json: bool,
) -> None:
    """Continue an interrupted or waiting case from its journal (verifies real state first)."""
    from ir.core.case import resolve_case
    from ir.core.events import RunOptions

    _terminate_as_interrupt()
    ws = _workspace(ctx)
    case_dir = resolve_case(ws.cases_dir, case)
    options = RunOptions(
        actor=_actor(actor),
        approve_all=approve_all,
        approve=frozenset(approve),
        overrides=_parse_pairs(overrides, "--override"),
    )
    _finish(_engine(ws, as_json).resume(case_dir=case_dir, options=options), as_json)


@cli.command("verify")
@click.argument("case")
@click.pass_context
@guarded
def verify_cmd(ctx: click.Context, case: str) -> None:
    """Check a case: journal hash chain, every evidence hash, the pinned playbook."""
    from ir.core.case import resolve_case
    from ir.core.verify import verify_case

    path = Path(case)
    if not (path / "journal.jsonl").is_file():
        path = resolve_case(_workspace(ctx).cases_dir, case)
    report = verify_case(path)
    for warning in report.warnings:
        click.echo(f"warning: {neutralise(warning)}", err=True)
    if not report.ok:
        for problem in report.problems:
            click.echo(f"FAIL {neutralise(problem)}", err=True)
        sys.exit(int(ExitCode.STEP_FAILED))
    click.echo(
        f"ok: {report.records} journal records chain correctly, {report.evidence} evidence files match; "
        f"head seq {report.head[0]} sha256 {report.head[1]}"
    )


@cli.command("timeline")
@click.argument("sources", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--agent", "agent_id", help="Add the agent's log sources (inventory) and use its allowlist and principals."
)
@click.option("--case", "case_ref", help="Add the case's captured container logs (and its agent, unless --agent).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl", "timesketch", "timesketch-csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--source-format",
    type=click.Choice(["otel", "cloudtrail", "docker", "docker-text", "jsonl", "mcp", "claude", "codex"]),
    help="Read every SOURCE as this format.",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write events here (default: stdout).")
@click.option("--summary-json", type=click.Path(dir_okay=False), help="Also write the summary as JSON here.")
@click.pass_context
@guarded
def timeline_cmd(
    ctx: click.Context,
    sources: tuple[str, ...],
    agent_id: str | None,
    case_ref: str | None,
    fmt: str,
    source_format: str | None,
    out: str | None,
    summary_json: str | None,
) -> None:
    """Merge an agent's logs into one ordered, deduplicated, tagged timeline."""
    from ir.timeline.export import summary_text, write
    from ir.timeline.inputs import case_inputs
    from ir.timeline.pipeline import build

    paths = [Path(s) for s in sources]
    agent = None
    if agent_id or case_ref:
        ws = _workspace(ctx)
        if agent_id:
            agent = ws.inventory.get(agent_id, str(ws.inventory_path))
            paths += [ws.path(s.path) for s in agent.logs if s.path]
        if case_ref:
            from ir.core.case import resolve_case

            case_paths, case_agent = case_inputs(resolve_case(ws.cases_dir, case_ref))
            paths += case_paths
            agent = agent or case_agent
    if not paths:
        fail("no sources: name files or folders, or use --agent / --case", ExitCode.BAD_INPUT)
    timeline = build(paths, agent=agent, format_override=source_format)
    if out:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            count = write(timeline.events(), fh, fmt)
    else:
        count = write(timeline.events(), sys.stdout, fmt)
    summary = timeline.summary()
    if summary_json:
        Path(summary_json).write_text(json.dumps(summary, indent=2, sort_keys=True, default=str), encoding="utf-8")
    click.echo(summary_text(summary), err=not out)
    if out:
        click.echo(f"{count} events written to {out}")


@cli.command("decide")
@click.argument("case")
@click.option(
    "--decision",
    type=click.Choice(["reenable", "keep-disabled", "decommission"]),
    required=True,
    help="What happens to the agent.",
)
@click.option("--by", "by", required=True, metavar="WHO", help="Who decides.")
@click.option("--reason", required=True, help="Why: the rationale, in words an auditor can follow.")
@click.option(
    "--approve-as", metavar="WHO", help="Second approver (required for reenable when ir.yaml asks for two people)."
)
@click.option("--root-cause", metavar="TEXT", help="Record the root cause (a re-enable criterion).")
@click.option(
    "--accept-follow-ups", is_flag=True, help="Accept the case's open follow-ups as open (a re-enable criterion)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the decision record as JSON.")
@click.pass_context
@guarded
def decide_cmd(
    ctx: click.Context,
    case: str,
    decision: str,
    by: str,
    reason: str,
    approve_as: str | None,
    root_cause: str | None,
    accept_follow_ups: bool,
    as_json: bool,
) -> None:
    """Record who decided to re-enable the agent (or not), why, on what evidence, approved by whom."""
    from ir.core.case import resolve_case
    from ir.core.decision import Decision, decide

    ws = _workspace(ctx)
    case_dir = resolve_case(ws.cases_dir, case)
    record = decide(
        case_dir,
        decision=Decision(decision),
        by=by,
        reason=reason,
        approve_as=approve_as,
        second_approver=ws.settings.decisions.second_approver,
        root_cause=root_cause,
        accept_follow_ups=accept_follow_ups,
    )
    if as_json:
        click.echo(json.dumps({"seq": record.seq, "hash": record.hash, **record.data}, sort_keys=True))
        return
    data = record.data
    click.echo(
        f"decision {data['decision']} recorded in {case_dir.name} (journal seq {record.seq}, sha256 {record.hash})"
    )
    click.echo(
        f"  by {neutralise(data['by'])}"
        + (f", approved by {neutralise(str(data['approved_by']))}" if data.get("approved_by") else "")
    )
    for name, criterion in data["criteria"].items():
        click.echo(f"  [{'x' if criterion['met'] else ' '}] {name}: {neutralise(str(criterion['detail']))}")


@cli.command("cases")
@click.pass_context
@guarded
def cases_cmd(ctx: click.Context) -> None:
    """List cases, newest first, with agent, playbook and status."""
    from ir.core.case import list_cases

    ws = _workspace(ctx)
    for path, state in list_cases(ws.cases_dir):
        book = state.started.get("playbook", {})
        agent = state.started.get("agent", {}).get("id", "?")
        click.echo(f"{path.name:<60} {agent:<16} {book.get('id', '?')} {book.get('version', '')}  {state.run_status}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="ir")


if __name__ == "__main__":
    main()

"""The `ir` command line: a thin click layer that builds objects and calls the core."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import click

from ir.cli.alerts import agents_affected, alerts_group, contain_cmd
from ir.cli.cases import abort_cmd, cases_cmd, decide_cmd, note_cmd, timeline_cmd, verify_cmd
from ir.cli.keys import keys_group
from ir.cli.playbooks import playbook_group
from ir.cli.report import report_cmd
from ir.cli.serve import serve_cmd
from ir.cli.support import actor_of, guarded, workspace_of
from ir.cli.tabletop import tabletop_group
from ir.core.errors import InputError
from ir.core.text import neutralise

HELP = "Incident response for AI agents: disable, snapshot, revoke, reconstruct, record, rehearse."


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

    app = make_app(workspace_of(ctx), actor=actor_of(actor))
    app.run()
    ctx.exit(app.return_code or 0)  # 130 when the person quit mid-run and left a case interrupted


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
    ws = workspace_of(ctx)
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

    ws = workspace_of(ctx)
    agent = ws.inventory.get(agent_id, str(ws.inventory_path))
    click.echo(yaml.safe_dump(agent.model_dump(mode="json", exclude_defaults=False), sort_keys=False).rstrip())


def _parse_pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"{what} {item!r}: expected KEY=VALUE")
        pairs[key.strip()] = value
    return pairs


def _engine(ws: Any, as_json: bool, key: str | None = None) -> Any:
    from ir.actions import default_registry
    from ir.backends import backends_for
    from ir.cli.console import EventPrinter
    from ir.cli.progress import capture_progress, cleared_first
    from ir.core.engine import Engine
    from ir.core.signing_trust import workspace_trust

    progress = capture_progress(quiet=as_json)  # bytes captured, on a terminal only
    return Engine(
        registry=default_registry(),
        backends=backends_for(ws),  # behind the exercise interlock in a sandbox
        workspace=ws.root,
        approvers=ws.settings.approvers,
        on_event=cleared_first(progress, EventPrinter(as_json=as_json)),
        trust=workspace_trust(ws),
        signing_key=Path(key) if key else None,
        on_capture=progress,
    )


def _finish(summary: Any, as_json: bool) -> None:
    from ir.cli.console import print_summary

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
@click.option("--key", type=click.Path(dir_okay=False), help="Private key that signs the journal head at the end.")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line, then a summary object.")
@click.option(
    "--attach", is_flag=True, help="If the agent has an open case, add this request to it as a note instead of a run."
)
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
    key: str | None,
    as_json: bool,
    attach: bool,
) -> None:
    """Run PLAYBOOK against an agent: a new case, journalled step by step."""
    from ir.core.events import RunOptions
    from ir.core.playbook import find_playbook

    _terminate_as_interrupt()
    ws = workspace_of(ctx)
    agent = ws.inventory.get(agent_id, str(ws.inventory_path))
    loaded = find_playbook(ws.playbooks_dir, playbook)
    options = RunOptions(
        actor=actor_of(actor),
        dry_run=dry_run,
        approve_all=approve_all,
        approve=frozenset(approve),
        overrides=_parse_pairs(overrides, "--override"),
    )
    if attach and not dry_run:
        _attach(ws, agent.id, loaded.playbook.id, _parse_pairs(params, "--param"), options.actor, key)
    summary = _engine(ws, as_json, key).start(
        loaded=loaded, agent=agent, params=_parse_pairs(params, "--param"), cases_dir=ws.cases_dir, options=options
    )
    _finish(summary, as_json)


def _attach(ws: Any, agent_id: str, playbook_id: str, params: dict[str, str], actor: str, key: str | None) -> None:
    """`--attach`: journal the request in the agent's open case and exit 0; return when there is none."""
    from ir.core.attach import attach
    from ir.core.signing_trust import workspace_trust

    done = attach(
        workspace=ws.root,
        cases_dir=ws.cases_dir,
        agent_id=agent_id,
        playbook_id=playbook_id,
        params=params,
        actor=actor,
        key=Path(key) if key else None,
        trust=workspace_trust(ws),
    )
    if done is None:
        return
    if done.seq is not None:
        click.echo(f"attached to open case {done.case_dir.name}: note recorded (journal seq {done.seq})")
    else:
        click.echo(
            f"attached to case {done.case_dir.name}, which a live run holds: "
            "the note is journalled at its next step or when it finishes"
        )
    if done.unsigned:
        click.echo(f"warning: {neutralise(done.unsigned)}", err=True)
    sys.exit(0)


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
@click.option("--skip", multiple=True, metavar="STEP", help="Skip this step (repeatable; needs --reason).")
@click.option("--reason", metavar="TEXT", help="Why the --skip steps are skipped (journalled with who).")
@click.option("--as", "actor", metavar="WHO", help="Who is resuming (default: $IR_USER or login name).")
@click.option("--key", type=click.Path(dir_okay=False), help="Private key that signs the journal head at the end.")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line, then a summary object.")
@click.pass_context
@guarded
def resume_cmd(
    ctx: click.Context,
    case: str,
    approve_all: bool,
    approve: tuple[str, ...],
    overrides: tuple[str, ...],
    skip: tuple[str, ...],
    reason: str | None,
    actor: str | None,
    key: str | None,
    as_json: bool,
) -> None:
    """Continue an interrupted or waiting case from its journal (verifies real state first)."""
    from ir.core.case import resolve_case
    from ir.core.events import RunOptions

    _terminate_as_interrupt()
    ws = workspace_of(ctx)
    case_dir = resolve_case(ws.cases_dir, case)
    options = RunOptions(
        actor=actor_of(actor),
        approve_all=approve_all,
        approve=frozenset(approve),
        overrides=_parse_pairs(overrides, "--override"),
        skip={step: reason or "" for step in skip},
    )
    _finish(_engine(ws, as_json, key).resume(case_dir=case_dir, options=options), as_json)


cli.add_command(playbook_group)
cli.add_command(contain_cmd)
cli.add_command(alerts_group)
agents_group.add_command(agents_affected)
cli.add_command(keys_group)
cli.add_command(tabletop_group)
for _command in (verify_cmd, cases_cmd, timeline_cmd, decide_cmd, note_cmd, abort_cmd, report_cmd, serve_cmd):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="ir")


if __name__ == "__main__":
    main()

"""`ir tabletop`: scenarios (`list`, `lint`) and exercises (commands added by their own modules)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ir.cli.support import fail, guarded, workspace_of
from ir.core.errors import ExitCode, WorkspaceError
from ir.core.text import neutralise


@click.group("tabletop")
def tabletop_group() -> None:
    """Tabletop exercises: rehearse an agent incident with the real playbooks, scored from the journal."""


def lint_context(ws: Any) -> Any:
    """What lint checks scenarios against: the registry's actions and the workspace's playbooks
    (`ws` None: actions only)."""
    from ir.actions import default_registry
    from ir.core.playbook import list_playbooks
    from ir.tabletop.lint import LintContext, PlaybookFacts

    actions = frozenset(default_registry().names())
    if ws is None:
        return LintContext(actions=actions)
    books = {
        loaded.playbook.id: PlaybookFacts(
            steps=frozenset(step.id for step in loaded.playbook.steps),
            actions=frozenset(step.action for step in loaded.playbook.steps),
            params=frozenset(loaded.playbook.params),
        )
        for loaded in list_playbooks(ws.playbooks_dir).playbooks
    }
    return LintContext(actions=actions, playbooks=books)


@tabletop_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per scenario file.")
@click.pass_context
@guarded
def tabletop_list(ctx: click.Context, as_json: bool) -> None:
    """List the workspace's scenarios; a file that does not load is listed with its first error (exit 2)."""
    from ir.tabletop.folder import list_scenarios, shown

    folder = workspace_of(ctx).tabletop_dir
    entries = list_scenarios(folder)
    if not entries and not as_json:
        click.echo(f"no scenarios in {shown(folder)}")
    elif not as_json:
        click.echo(f"{'ID':<28} {'VERSION':<9} {'INJECTS':>7} {'EXPECT':>6}  {'ASI':<24} TITLE")
    for entry in entries:
        s = entry.scenario
        if as_json:
            click.echo(json.dumps(_as_dict(entry.path, s, entry.error), sort_keys=True))
        elif s is None:
            click.echo(neutralise(f"error: {entry.error}"))
        else:
            asi = ",".join(s.references.asi) or "-"
            line = f"{s.id:<28} {s.version:<9} {len(s.injects):>7} {len(s.expectations):>6}  {asi:<24} {s.title}"
            click.echo(neutralise(line))
    broken = sum(1 for e in entries if e.scenario is None)
    if broken:
        fail(f"{broken} scenario file(s) do not load; `ir tabletop lint` shows every problem", ExitCode.BAD_INPUT)


def _as_dict(path: Path, s: Any, error: str | None) -> dict[str, Any]:
    if s is None:
        return {"file": str(path), "error": error}
    return {
        "file": str(path),
        "id": s.id,
        "version": s.version,
        "title": s.title,
        "asi": list(s.references.asi),
        "atlas": list(s.references.atlas),
        "injects": len(s.injects),
        "expectations": len(s.expectations),
    }


@tabletop_group.command("lint")
@click.argument("scenarios", nargs=-1, metavar="[SCENARIO]...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per problem, on stdout.")
@click.pass_context
@guarded
def tabletop_lint(ctx: click.Context, scenarios: tuple[str, ...], as_json: bool) -> None:
    """Check scenarios (all of the workspace's, or each SCENARIO: a path or an id); file:line:col lines,
    exit 2 on any error (warnings alone exit 0)."""
    from ir.tabletop.folder import find_scenario, scenario_files, shown
    from ir.tabletop.lint import lint_file

    try:
        ws = workspace_of(ctx)
    except WorkspaceError:
        if not scenarios or not all(Path(s).is_file() for s in scenarios):
            raise
        ws = None  # files given outside a workspace: playbook names cannot be checked
        click.echo("warning: no workspace: reference and route playbooks are not checked", err=True)
    folder = ws.tabletop_dir if ws is not None else Path("tabletop")
    files = [find_scenario(folder, s) for s in scenarios] or [shown(p) for p in scenario_files(folder)]
    if not files:
        fail(f"no scenarios to lint in {shown(folder)}", ExitCode.BAD_INPUT)
    context, errors = lint_context(ws), 0
    for path in files:
        findings = lint_file(path, context)
        errors += sum(1 for f in findings if f.severity == "error")
        for finding in findings:
            click.echo(finding.as_json() if as_json else neutralise(str(finding)), err=not as_json)
        warnings = sum(1 for f in findings if f.severity == "warning")
        if not as_json and len(findings) == warnings:
            click.echo(f"{path}: ok" + (f" ({warnings} warning(s))" if warnings else ""))
    if errors:
        fail(f"{errors} error(s) in {len(files)} scenario(s)", ExitCode.BAD_INPUT)


from ir.cli.tabletop_run import run_cmd  # noqa: E402 (each exercise command lives in its own module)

tabletop_group.add_command(run_cmd)

from ir.cli.tabletop_report import report_cmd  # noqa: E402

tabletop_group.add_command(report_cmd)

from ir.cli.tabletop_join import join_cmd  # noqa: E402

tabletop_group.add_command(join_cmd)

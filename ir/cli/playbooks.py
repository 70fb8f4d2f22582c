"""`ir playbook`: list, show, lint, and the JSON Schema for editors."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ir.cli.support import fail, guarded, workspace_of
from ir.core.errors import ExitCode
from ir.core.text import neutralise


@click.group("playbook")
def playbook_group() -> None:
    """Playbooks: list, show, lint, and the JSON Schema for editors."""


@playbook_group.command("list")
@click.pass_context
@guarded
def playbook_list(ctx: click.Context) -> None:
    """List the workspace's playbooks; each file that does not load is named on stderr (exit 2)."""
    from ir.core.playbook import list_playbooks

    listing = list_playbooks(workspace_of(ctx).playbooks_dir)
    for loaded in listing.playbooks:
        book = loaded.playbook
        click.echo(neutralise(f"{book.id:<28} {book.version:<10} {book.title}"))
    for problem in listing.problems:
        click.echo(neutralise(problem), err=True)
    if listing.problems:
        fail(f"{len(listing.problems)} playbook file(s) could not be loaded (see above)", ExitCode.BAD_INPUT)


@playbook_group.command("show")
@click.argument("playbook_id")
@click.pass_context
@guarded
def playbook_show(ctx: click.Context, playbook_id: str) -> None:
    """Show a playbook: params, steps, approvals and guidance."""
    from ir.core.playbook import find_playbook

    ws = workspace_of(ctx)
    loaded = find_playbook(ws.playbooks_dir, playbook_id)
    book = loaded.playbook
    click.echo(f"{book.id} {book.version} — {book.title}\nsource {loaded.source}\nsha256 {loaded.sha256}\n")
    if book.description:
        click.echo(book.description.rstrip() + "\n")
    for name, spec in book.params.items():
        bounds = [f"{k} {v!r}" for k, v in (("min", spec.min_), ("max", spec.max_)) if v is not None]
        if spec.choices is not None:
            bounds.append("one of " + ", ".join(repr(c) for c in spec.choices))
        if spec.pattern is not None:
            bounds.append(f"matching {spec.pattern!r}")
        shown = ", ".join([spec.type, f"default {spec.default!r}", *bounds])
        click.echo(neutralise(f"param {name} ({shown}): {spec.description}"))
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

    files = [Path(p) for p in paths] if paths else playbook_files(workspace_of(ctx).playbooks_dir)
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

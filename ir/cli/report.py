"""`ir report`: the incident report of a case, written into the case (or elsewhere) and journalled."""

from __future__ import annotations

from pathlib import Path

import click

from ir.cli.support import actor_of, guarded, workspace_of
from ir.core.text import neutralise


@click.command("report")
@click.argument("case")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json"]),
    default="md",
    show_default=True,
    help="md for a ticket, html for an auditor (one self-contained file), json for tools.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write here instead of cases/<id>/report.<format> (`-`: print it, not journalled).",
)
@click.option("--as", "actor", metavar="WHO", help="Who writes the report (signs the new head; default: $IR_USER).")
@click.option("--key", type=click.Path(dir_okay=False), help="Private key that signs the new head.")
@click.pass_context
@guarded
def report_cmd(ctx: click.Context, case: str, fmt: str, out: str | None, actor: str | None, key: str | None) -> None:
    """Write the incident report of a verified case: what happened, what was done, what is live, evidence, decisions."""
    from ir.core.case import resolve_case
    from ir.core.signing_trust import workspace_trust
    from ir.report.write import write_report

    ws = workspace_of(ctx)
    case_dir = resolve_case(ws.cases_dir, case)
    if out == "-":
        from ir.report.write import report_text

        text = report_text(case_dir, fmt, trust=workspace_trust(ws))  # type: ignore[arg-type]  # a click.Choice
        click.echo(text, nl=False)
        return
    written = write_report(
        case_dir,
        fmt,  # type: ignore[arg-type]  # click.Choice holds it to the three formats
        out=Path(out) if out else None,
        actor=actor_of(actor),
        trust=workspace_trust(ws),
        key=Path(key) if key else None,
    )
    click.echo(f"report written to {neutralise(str(written.path))}")
    if written.record is None:
        click.echo("  outside the case: not recorded in its journal")
        return
    click.echo(
        f"  recorded in {case_dir.name} (journal seq {written.record.seq}, sha256 {written.record.data['sha256']})"
    )
    signed = written.signed
    if signed is not None:
        who = f"signed by {signed.principal}" if signed.principal else "(not signed)"
        click.echo(neutralise(f"  journal head: seq {signed.seq} sha256 {signed.hash} {who}"))
        if signed.unsigned:
            click.echo(neutralise(f"  {signed.unsigned}"))

"""The commands about a case outside its run: verify it, list cases, build its timeline, decide, note, abort."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ir.cli.support import actor_of, fail, guarded, workspace_of
from ir.core.errors import ExitCode
from ir.core.text import neutralise


@click.command("verify")
@click.argument("case")
@click.option(
    "--allowed-signers",
    type=click.Path(exists=True, dir_okay=False),
    help="Check signatures against this OpenSSH allowed_signers file (a case copied out of its workspace).",
)
@click.option("--expect-head", metavar="SEQ:HASH", help="Fail unless the journal holds this record (no rollback).")
@click.option("--strict", is_flag=True, help="Also fail on anything unsigned or an approval another principal signed.")
@click.pass_context
@guarded
def verify_cmd(
    ctx: click.Context, case: str, allowed_signers: str | None, expect_head: str | None, strict: bool
) -> None:
    """Check a case: journal hash chain, signatures, every evidence hash, the pinned playbook."""
    from ir.core.case import resolve_case
    from ir.core.signing_trust import file_trust
    from ir.core.verify import parse_head, verify_case

    path = Path(case)
    if not path.is_dir():
        ctx.obj["ignored_warned"] = True  # the report names ignored signers of the trust it checks with
        path = resolve_case(workspace_of(ctx).cases_dir, case)
    trust = file_trust(Path(allowed_signers)) if allowed_signers else None
    report = verify_case(path, trust=trust, expect_head=parse_head(expect_head) if expect_head else None)
    for warning in report.warnings:
        click.echo(f"warning: {neutralise(warning)}", err=True)
    sig = report.signatures
    strict_failures = _strict_failures(report) if strict else []
    if not report.ok or strict_failures:  # the verdict is FAIL: nothing on stdout may read as ok
        for problem in [*report.problems, *strict_failures]:
            click.echo(f"FAIL {neutralise(problem)}", err=True)
        sys.exit(int(ExitCode.STEP_FAILED))
    click.echo(
        f"ok: {report.records} journal records chain correctly, {report.evidence} evidence files match; "
        f"head seq {report.head[0]} sha256 {report.head[1]}"
    )
    if sig.signed_head:
        demo = " (a demo key, trusted only by this demo workspace)" if sig.demo else ""
        who = neutralise(sig.signed_head[2])
        click.echo(f"signed head: seq {sig.signed_head[0]} sha256 {sig.signed_head[1]} by {who}{demo}")
    else:
        click.echo("signed head: none (unsigned: nothing proves who wrote this case; see the warning)")


def _strict_failures(report: Any) -> list[str]:
    """Why `--strict` refuses a case that otherwise verifies: every part not signed up to its head."""
    sig = report.signatures
    found = []
    if sig.unsigned_case:
        found.append("--strict: the case has no signed head (nothing proves who wrote it)")
    if sig.unsigned_tail:
        found.append(f"--strict: {sig.unsigned_tail} record(s) after the last checkpoint are unsigned")
    if sig.unsigned_decisions:
        found.append(f"--strict: {sig.unsigned_decisions} decision(s) are unsigned")
    if sig.unbound_approvals:
        found.append(f"--strict: {sig.unbound_approvals} approval(s) are covered by another principal's signature")
    return found


@click.command("timeline")
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
    "source_formats",
    multiple=True,
    metavar="[FILE=]FORMAT",
    help="Read every SOURCE as FORMAT, or FILE=FORMAT: read that one file as FORMAT (repeatable). "
    "Formats: otel, cloudtrail, docker, docker-text, jsonl, mcp, claude, codex, chat, trajectory.",
)
@click.option(
    "--untimed-at",
    metavar="TIME",
    help="Place events whose source gives no time at TIME (default: after the last timed event).",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write events here (default: stdout).")
@click.option("--summary-json", type=click.Path(dir_okay=False), help="Also write the summary as JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object instead of text.")
@click.pass_context
@guarded
def timeline_cmd(
    ctx: click.Context,
    sources: tuple[str, ...],
    agent_id: str | None,
    case_ref: str | None,
    fmt: str,
    source_formats: tuple[str, ...],
    untimed_at: str | None,
    out: str | None,
    summary_json: str | None,
    as_json: bool,
) -> None:
    """Merge an agent's logs into one ordered, deduplicated, tagged timeline."""
    from ir.cli.progress import source_progress
    from ir.timeline.export import summary_text
    from ir.timeline.inputs import case_inputs
    from ir.timeline.pipeline import build
    from ir.timeline.untimed import anchor_time

    every, per_file = _source_formats(source_formats)
    try:
        anchor = anchor_time(untimed_at) if untimed_at is not None else None
    except ValueError as exc:
        fail(str(exc), ExitCode.BAD_INPUT)
    paths = [Path(s) for s in sources]
    agent = None
    if agent_id or case_ref:
        ws = workspace_of(ctx)
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
    progress = source_progress(quiet=as_json)  # on a terminal only: events read per source, and the rate
    try:
        timeline = build(
            paths,
            agent=agent,
            format_override=every,
            file_formats=per_file,
            untimed_at=anchor,
            progress=progress,
            fmt=fmt,  # the workers render the lines
        )
    finally:
        if progress is not None:
            progress.close()
    _refuse_when_nothing_read(timeline)
    if out:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            count = timeline.write(fh, fmt)
    else:
        count = timeline.write(sys.stdout, fmt)
    summary = timeline.summary()
    if summary_json:
        Path(summary_json).write_text(json.dumps(summary, indent=2, sort_keys=True, default=str), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True, default=str), err=not out)
        return
    click.echo(summary_text(summary), err=not out)
    if out:
        click.echo(f"{count} events written to {out}")


def _source_formats(values: tuple[str, ...]) -> tuple[str | None, dict[Path, str]]:
    """`--source-format` values: the one format for every file (or None), and formats per file."""
    from ir.timeline.sources import FORMATS

    every: str | None = None
    per_file: dict[Path, str] = {}
    for value in values:
        path, sep, name = value.rpartition("=")
        if name not in FORMATS:
            fail(f"--source-format {value}: {name!r} is not a format ({', '.join(FORMATS)})", ExitCode.BAD_INPUT)
        if sep:
            if not Path(path).is_file():
                fail(f"--source-format {value}: {path} is not a file", ExitCode.BAD_INPUT)
            per_file[Path(path)] = name
        elif every not in (None, name):
            fail(f"--source-format {value}: every SOURCE is already read as {every}", ExitCode.BAD_INPUT)
        else:
            every = name
    return every, per_file


def _refuse_when_nothing_read(timeline: Any) -> None:
    """Exit 2 with one line per file and its reason when no input yielded an event (what a reason
    quotes of a file is masked like every other output: it may be a secret)."""
    from ir.core.redaction import redact_text

    if any(st.events for st in timeline.stats):
        return
    for reason in timeline.skipped:
        click.echo(f"ir: skipped {neutralise(redact_text(reason))}", err=True)
    for st in timeline.stats:
        first = f"; first: {redact_text(st.bad_refs[0])}" if st.bad_refs else ""
        why = f"read as {st.format}, {st.records} records, {st.bad} bad, no events{first}"
        click.echo(f"ir: {neutralise(st.path)}: {neutralise(why)}", err=True)
    fail("no events: nothing in the sources could be read (reasons above)", ExitCode.BAD_INPUT)


@click.command("decide")
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
@click.option(
    "--key",
    type=click.Path(dir_okay=False),
    help="The decider's private key (default: $IR_SIGNING_KEY, then the keys dir).",
)
@click.option(
    "--approve-key", type=click.Path(dir_okay=False), help="The second approver's private key (default: the keys dir)."
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
    key: str | None,
    approve_key: str | None,
    root_cause: str | None,
    accept_follow_ups: bool,
    as_json: bool,
) -> None:
    """Record who decided to re-enable the agent (or not), why, on what evidence, approved by whom."""
    from ir.core.case import resolve_case
    from ir.core.decision import Decision, decide
    from ir.core.signing_trust import workspace_trust

    ws = workspace_of(ctx)
    case_dir = resolve_case(ws.cases_dir, case)
    record = decide(
        case_dir,
        decision=Decision(decision),
        by=by,
        reason=reason,
        approve_as=approve_as,
        second_approver=ws.settings.decisions.second_approver,
        trust=workspace_trust(ws),
        key=Path(key) if key else None,
        approve_key=Path(approve_key) if approve_key else None,
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
    click.echo("  signed by " + ", ".join(f"{s['principal']} ({s['key']})" for s in data["signatures"]))
    for name, criterion in data["criteria"].items():
        click.echo(f"  [{'x' if criterion['met'] else ' '}] {name}: {neutralise(str(criterion['detail']))}")


@click.command("cases")
@click.option("--metrics", is_flag=True, help="Per case time to acknowledge and to contain, and the medians.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per case (with --metrics, then the medians).")
@click.pass_context
@guarded
def cases_cmd(ctx: click.Context, metrics: bool, as_json: bool) -> None:
    """List cases, newest first, with agent, playbook and status (--metrics: how fast each was contained)."""
    from ir.core.case import list_cases
    from ir.report.metrics import case_metrics, medians

    ws = workspace_of(ctx)
    unreadable: list[str] = []
    listed = list_cases(ws.cases_dir, unreadable)
    rows = [case_metrics(path, state) for path, state in listed] if metrics else []
    for index, (path, state) in enumerate(listed):
        book = f"{state.run.playbook.id} {state.run.playbook.version}" if state.run else "? "
        if as_json:
            row = {
                "case": path.name,
                "agent": state.agent_id,
                "playbook": book.strip(),
                "status": str(state.run_status),
            }
            click.echo(json.dumps(row | (rows[index].as_dict() if metrics else {}), sort_keys=True, ensure_ascii=True))
            continue
        line = f"{path.name:<60} {state.agent_id:<16} {book}  {state.run_status}"
        if metrics:
            line += f"  {rows[index].line()}"
        click.echo(neutralise(line))  # a case folder can come from elsewhere: its journal is not trusted text
    if metrics:
        from ir.report.times import duration

        m = medians(rows)
        if as_json:
            summary = {"median_time_to_acknowledge_s": m.to_acknowledge, "median_time_to_contain_s": m.to_contain}
            click.echo(json.dumps(summary | {"cases": m.cases, "contained": m.contained}))
        else:
            click.echo(
                f"median over {m.cases} incident cases: time to acknowledge {duration(m.to_acknowledge)}, "
                f"time to contain {duration(m.to_contain)} ({m.contained} contained)"
            )
    for problem in unreadable:  # listed the others first: one bad case hides nothing else
        click.echo(f"ir: error: {neutralise(problem)}", err=True)
    if unreadable:
        sys.exit(int(ExitCode.STEP_FAILED))


@click.command("note")
@click.argument("case")
@click.argument("text")
@click.option("--step", metavar="STEP", help="The step the note is about.")
@click.option("--as", "actor", metavar="WHO", help="Who writes the note (default: $IR_USER or login name).")
@click.option("--key", type=click.Path(dir_okay=False), help="Private key that signs the new head.")
@click.pass_context
@guarded
def note_cmd(ctx: click.Context, case: str, text: str, step: str | None, actor: str | None, key: str | None) -> None:
    """Add a responder's note to the case's journal (what you saw, what you decided and why)."""
    from ir.core.case import resolve_case
    from ir.core.interventions import add_note
    from ir.core.signing_journal import head_status
    from ir.core.signing_trust import workspace_trust

    ws = workspace_of(ctx)
    case_dir = resolve_case(ws.cases_dir, case)
    who, trust, key_path = actor_of(actor), workspace_trust(ws), Path(key) if key else None
    record = add_note(case_dir, by=who, text=text, step=step, trust=trust, key=key_path)
    click.echo(f"note recorded in {case_dir.name} (journal seq {record.seq}, sha256 {record.hash})")
    click.echo(neutralise(head_status(case_dir, trust, who, key_path)))


@click.command("abort")
@click.argument("case")
@click.option("--reason", required=True, help="Why the run stops here for good.")
@click.option("--as", "actor", metavar="WHO", help="Who aborts (default: $IR_USER or login name).")
@click.option("--key", type=click.Path(dir_okay=False), help="Private key that signs the new head.")
@click.pass_context
@guarded
def abort_cmd(ctx: click.Context, case: str, reason: str, actor: str | None, key: str | None) -> None:
    """End a case's run for good: it cannot be resumed; what was done stays done and recorded."""
    from ir.core.case import resolve_case
    from ir.core.interventions import abort_run
    from ir.core.records import RunAborted
    from ir.core.signing_journal import head_status
    from ir.core.signing_trust import workspace_trust

    ws = workspace_of(ctx)
    case_dir = resolve_case(ws.cases_dir, case)
    who, trust, key_path = actor_of(actor), workspace_trust(ws), Path(key) if key else None
    record = abort_run(case_dir, by=who, reason=reason, trust=trust, key=key_path)
    click.echo(f"run aborted in {case_dir.name} (journal seq {record.seq}, sha256 {record.hash})")
    click.echo(neutralise(head_status(case_dir, trust, who, key_path)))
    aborted = RunAborted.model_validate(record.data)
    if aborted.open_steps:
        click.echo(f"  not run: {', '.join(aborted.open_steps)}")
    for step in aborted.unverified_calls:
        click.echo(f"  warning: step {step} made a call whose result was never recorded; check its target by hand")

"""What the console does to a case file outside a run: verify it, export its timeline, write its report.

Each is a plain blocking function returning the one line to tell the responder; the command
palette runs them in thread workers (hashing evidence or writing a report never blocks the UI).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from ir.core.case import CaseState
from ir.core.errors import IrError
from ir.core.events import RunSummary
from ir.core.journal import JOURNAL_FILE, Record, read
from ir.core.records import Kind
from ir.core.signing_journal import check_journal
from ir.core.signing_trust import Trust, case_trust
from ir.core.verify import verify_case
from ir.report.happened import timeline_file
from ir.report.write import write_report
from ir.timeline.export import write

EXPORTS_DIR = "exports"
"""Where timeline exports go, under the workspace (outside the case: the case holds only journalled files)."""


def verify_line(case_dir: Path) -> tuple[bool, str]:
    """(ok, one line): what `ir verify` says of the case."""
    report = verify_case(case_dir)
    if not report.ok:
        return False, f"{case_dir.name}: verify FAILED: {report.problems[0]}"
    return True, (
        f"{case_dir.name}: ok — {report.records} records chain, {report.evidence} evidence files match; "
        f"head seq {report.head[0]} sha256 {report.head[1][:16]}…"
    )


def export_timeline(case_dir: Path, workspace_root: Path) -> str:
    """Write the case's timeline, as the journal vouches for it, as Timesketch JSONL; the line to show."""
    path, _file, why_not = timeline_file(case_dir, read(case_dir / JOURNAL_FILE).records)
    if path is None:
        raise IrError(f"{case_dir.name}: no timeline to export: {why_not}")
    target = workspace_root / EXPORTS_DIR / f"{case_dir.name}.timesketch.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as out:
        count = write((orjson.loads(line) for line in src if line.strip()), out, "timesketch")
    return f"{count} events exported to {target}"


def write_md_report(case_dir: Path, actor: str, trust: Trust) -> str:
    """`ir report CASE` (Markdown, into the case, journalled and signed); the line to show."""
    written = write_report(case_dir, "md", actor=actor, trust=trust)
    seq = f" (journal seq {written.record.seq})" if written.record else ""
    signed = written.signed
    who = f"; head signed by {signed.principal}" if signed and signed.principal else "; head not signed"
    return f"report written to {written.path}{seq}{who}"


def finished_summary(case_dir: Path, state: CaseState, records: Sequence[Record], steps: Sequence[str]) -> RunSummary:
    """The summary `ir run` printed when this case's last run ended, rebuilt from its journal:
    status, steps, follow-ups, what is still live, and the head (signed only when a checkpoint
    whose signature checks out signs that very record)."""
    assert state.finished is not None
    heads = [r for r in records if r.type != Kind.CHECKPOINT]
    head = (heads[-1].seq, heads[-1].hash) if heads else None
    sig = check_journal(records, case_dir, case_trust(case_dir), live_pid=None, journal=JOURNAL_FILE)
    signed = sig.signed_head[2] if head and sig.signed_head and sig.signed_head[0] == head[0] else None
    return RunSummary(
        status=state.run_status,
        steps={sid: str(state.step(sid).status) for sid in steps},
        case_dir=str(case_dir),
        case_id=state.case_id,
        head=head,
        signed_by=signed,
        message=state.finished.message,
        follow_ups=tuple(state.follow_ups),
        still_live=tuple(live.model_dump() for live in state.finished.still_live or ()),
    )


def journal_head_line(case_dir: Path) -> str:
    """The journal head as a run's summary prints it: `journal head: seq N sha256 H signed by WHO`,
    signed only when a checkpoint whose signature checks out signs that very record."""
    checked = read(case_dir / JOURNAL_FILE)
    if checked.problems:
        raise IrError(f"{case_dir.name}: the journal does not verify, no head to copy: {checked.problems[0]}")
    records = [r for r in checked.records if r.type != Kind.CHECKPOINT]
    if not records:
        raise IrError(f"{case_dir / JOURNAL_FILE}: the journal is empty")
    head = records[-1]
    sig = check_journal(checked.records, case_dir, case_trust(case_dir), live_pid=None, journal=JOURNAL_FILE)
    if sig.signed_head and sig.signed_head[0] == head.seq:
        signed = f" signed by {sig.signed_head[2]}"
    elif sig.signed_head:
        signed = f" (not signed; the last signed head is seq {sig.signed_head[0]}, by {sig.signed_head[2]})"
    else:
        signed = " (not signed)"
    return f"journal head: seq {head.seq} sha256 {head.hash}{signed}"

"""The report's content as data: every section, from the case-state reader and the verified files.

`build_report` refuses a case `ir verify` fails (one line, exit 1): a report on a case whose
journal or evidence changed would tell an auditor something false. Everything else is read
through `CaseState` and the typed payloads; every string is redacted before it leaves here, and
each renderer neutralises or escapes it for its own medium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ir.core.case import CaseState, pinned_playbook
from ir.core.errors import IrError
from ir.core.journal import JOURNAL_FILE, Record, read
from ir.core.redaction import redact
from ir.core.signing_journal import case_id_of, decision_signers
from ir.core.signing_trust import Trust, case_trust
from ir.core.verify import verify_case
from ir.report.happened import read_happened
from ir.report.times import case_times

SCHEMA = "ir/report/v1"
DECLINED = "approval.declined"
"""A declined approval (`{step, by, reason}`, the shared name of issue 10); read by kind so this
layer does not depend on when its payload model lands."""


class ReportRefused(IrError):
    """The case does not verify: no report is written from it."""


def build_report(case_dir: Path, *, trust: Trust | None = None, replacing: str | None = None) -> dict[str, Any]:
    """Every section of the incident report of the case in `case_dir`, as plain (redacted) data.

    `replacing` names the case file (relative path) the report is about to be written over: a
    previous report that no longer matches its record (edited by hand, or a crash between its
    write and its record) is superseded by the new one, so it does not refuse the case.
    """
    trust = case_trust(case_dir) if trust is None else trust
    checked = verify_case(case_dir, trust=trust)
    superseded = f"{case_dir / replacing}: derived file " if replacing else None
    problems = [p for p in checked.problems if superseded is None or not p.startswith(superseded)]
    if problems:
        raise ReportRefused(f"{case_dir.name}: the case does not verify, no report written: {problems[0]}")
    records = read(case_dir / JOURNAL_FILE).records
    case = CaseState.replay(records)
    if case.run is None:
        raise ReportRefused(f"{case_dir / JOURNAL_FILE}: no run.started record, nothing to report")
    loaded = pinned_playbook(case_dir, case)
    steps = loaded.playbook.steps
    times = case_times(records, [(s.id, s.action) for s in steps])
    timeline_out = case.steps.get(_timeline_step(case), None)
    happened = read_happened(case_dir, records)
    sig = checked.signatures
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "case": case.case_id,
        "agent": case.agent_id,
        "agent_owner": str(case.run.agent.get("owner", "")),
        "playbook": {"id": loaded.playbook.id, "version": loaded.playbook.version, "sha256": loaded.sha256},
        "status": str(case.run_status),
        "aborted": case.aborted,
        "times": times.as_dict(),
        "happened": {
            "first_suspicious": timeline_out.outputs.get("first_suspicious") if timeline_out else None,
            "likely_injection": timeline_out.outputs.get("likely_injection") if timeline_out else None,
            "by_tag": timeline_out.outputs.get("by_tag", {}) if timeline_out else {},
            **happened.as_dict(),
        },
        "done": {
            "steps": [_step(case, s.id, s.title, s.action) for s in steps],
            "notes": [{"by": n.by, "text": n.text, "step": n.step} for n in case.notes],
            "declined": [dict(r.data) | {"ts": r.ts, "seq": r.seq} for r in records if r.type == DECLINED],
            "overrides": dict(case.overrides),
        },
        "live": {
            "assessed": case.finished is not None and case.finished.still_live is not None,
            "still_live": [s.model_dump() for s in case.still_live],
            "follow_ups": [{"what": f.what, "owner": f.owner, "why": f.why, "step": f.step} for f in case.follow_ups],
        },
        "evidence": [
            {
                "name": e.name,
                "sha256": e.sha256,
                "size": e.size,
                "step": e.step,
                "source": e.source,
                "method": e.method,
                "sensitive": e.sensitive,
            }
            for e in case.evidence
        ],
        "unavailable": [{"name": u.name, "step": u.step, "reason": u.reason} for u in case.unavailable],
        "decisions": _decisions(case, records, case_dir, trust),
        "journal": {
            "records": checked.records,
            "head": {"seq": checked.head[0], "hash": checked.head[1]},
            "signed_head": (
                {"seq": sig.signed_head[0], "hash": sig.signed_head[1], "by": sig.signed_head[2], "demo": sig.demo}
                if sig.signed_head
                else None
            ),
        },
    }
    return dict(redact(report))


def _timeline_step(case: CaseState) -> str:
    """The step that reconstructed the timeline (its outputs hold the first suspicious event)."""
    return next((sid for sid, action in case.actions.items() if action == "timeline.reconstruct"), "")


def _step(case: CaseState, step_id: str, title: str, action: str) -> dict[str, Any]:
    st = case.steps.get(step_id)
    if st is None:
        return {"id": step_id, "title": title, "action": action, "status": "pending (never reached)"}
    out: dict[str, Any] = {
        "id": step_id,
        "title": title,
        "action": action,
        "status": str(st.status),
        "approved_by": st.approved_by,
        "attempts": st.attempts,
        "error": st.error,
    }
    if st.skipped is not None:
        out["skipped"] = {"reason": st.skipped.reason, "by": st.skipped.by}
    if st.outputs.get("failed"):
        out["failed_targets"] = st.outputs["failed"]
    return out


def _decisions(case: CaseState, records: list[Record], case_dir: Path, trust: Trust) -> list[dict[str, Any]]:
    by_seq = {r.seq: i for i, r in enumerate(records)}
    case_id = case_id_of(records, case_dir)
    found = []
    for d in case.decisions:
        index = by_seq[d.seq]
        rec = records[index]
        good, problems = (
            decision_signers(case_id, rec.data, records[index - 1] if index else None, trust)
            if d.signatures
            else ([], ["unsigned (it cannot release the agent)"])
        )
        found.append(
            {
                "decision": d.decision,
                "by": d.by,
                "approved_by": d.approved_by,
                "approved": d.approved,
                "reason": d.reason,
                "root_cause": d.root_cause,
                "seq": d.seq,
                "hash": d.hash,
                "ts": rec.ts,
                "signers": [
                    {
                        "principal": str(s.get("principal")),
                        "role": str(s.get("role", "")),
                        "key": str(s.get("key", "")),
                        "verified": str(s.get("principal")) in good,
                    }
                    for s in d.signatures
                ],
                "problems": problems,
            }
        )
    return found

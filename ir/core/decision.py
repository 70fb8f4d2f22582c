"""Decisions: who decided to re-enable an agent (or keep it disabled, or decommission it), why,
on what evidence, with which criteria met, and who approved.

A decision is a journal record of the incident case, signed (SSHSIG) by the decider and, under
the two-person rule, by a second approver with a distinct key; the signatures bind the case id
and the record the decision follows. Re-enabling is refused unless every criterion is met. The
engine refuses release actions (unpause, restore network, lift the deny) unless the incident
case's latest decision is an approved `reenable` whose signatures verify against the allowed
signers of the workspace at the time of release.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

from ir.core.case import CaseState, RecordedDecision, StepStatus, pinned_playbook
from ir.core.errors import ApprovalRefused, InputError, IrError
from ir.core.journal import JOURNAL_FILE, Journal, Record, read
from ir.core.records import Kind
from ir.core.signing_journal import case_id_of, decision_signers, sign_decision, sign_head
from ir.core.signing_trust import NoSigner, Trust, case_trust, signer_for
from ir.core.verify import CaseReport, verify_case


class Decision(StrEnum):
    """What happens to the agent after the incident."""

    REENABLE = "reenable"
    KEEP_DISABLED = "keep-disabled"
    DECOMMISSION = "decommission"


CRITERIA = ("credentials_rotated", "root_cause_recorded", "evidence_sealed", "follow_ups_closed")
NOT_REVOCATION = {"credentials.snapshot", "credentials.find_minted"}
RAISES_FOLLOW_UPS = frozenset({"credentials.rotate_secrets", "credentials.revoke_http", "manual.follow_up"})
"""Actions that record follow-ups (what they could not do themselves): until each of their steps has
run, "no follow-ups" is not known. Named here because core does not import the actions."""
RAN = (StepStatus.SUCCEEDED, StepStatus.FAILED)
"""A step that reached the end of its work (a failed one still raised its follow-ups)."""


def step_actions(case_dir: Path) -> dict[str, str]:
    """Step id → action of the playbook pinned in the case, in playbook order."""
    return {step.id: step.action for step in pinned_playbook(case_dir).playbook.steps}


def _not_applicable(state: CaseState, step_id: str, depth: int = 0) -> bool:
    """Skipped by its own `when:` on the agent or the params, not by a person. A condition on an
    earlier step (`when: steps.minted.status == succeeded`) makes it n/a only when that step
    succeeded (its real outputs decided) or was n/a too (an agent without credentials); when that
    step failed, never ran, or a person skipped it, what it would have found is unknown."""
    skip = state.step(step_id).skipped
    if skip is None or skip.by is not None:
        return False
    earlier = set(re.findall(r"steps\.([A-Za-z0-9_-]+)\.", skip.reason)) - {step_id}
    return depth < 20 and all(
        state.step(sid).status == StepStatus.SUCCEEDED or _not_applicable(state, sid, depth + 1) for sid in earlier
    )


def _why_not(state: CaseState, step_id: str) -> str:
    """How a step stands, for a criterion's detail: `keys (skipped by alice: no time)`."""
    st = state.steps.get(step_id)
    if st is None or (st.status == StepStatus.PENDING and st.attempts == 0):
        return f"{step_id} (never ran)"
    if st.status == StepStatus.SKIPPED and st.skipped is not None:
        who = f"by {st.skipped.by}" if st.skipped.by else "by its condition"
        return f"{step_id} (skipped {who}: {st.skipped.reason})" if st.skipped.reason else f"{step_id} (skipped {who})"
    if st.status == StepStatus.SUCCEEDED:
        return f"{step_id} (succeeded, but not for: {', '.join(sorted(st.outputs.get('failed') or {}))})"
    return f"{step_id} ({st.status})"


def _undone(state: CaseState, step_id: str) -> str:
    """Why a revocation step is not done: how it stands, or what the run's end found it left live."""
    left = [item.what for item in state.still_live if item.step == step_id]
    if left and state.step(step_id).status == StepStatus.SUCCEEDED:
        return f"{step_id} (left live: {'; '.join(left)})"
    return _why_not(state, step_id)


def journal_criteria(
    state: CaseState, actions: dict[str, str], *, root_cause: str | None, accept_follow_ups: bool
) -> dict[str, dict[str, Any]]:
    """The criteria the journal alone answers (cheap: nothing is hashed); `actions` is `step_actions`.

    A revocation step counts only when it succeeded for every target; one skipped by a person,
    never run, failed, or named by the run's end as leaving something live is not done. Follow-ups
    are closed only when every step that can raise one has run, and none is open (or they are
    accepted as open).
    """
    revocation = [
        sid for sid, action in actions.items() if action.startswith("credentials.") and action not in NOT_REVOCATION
    ]
    live_steps = {item.step for item in state.still_live}
    undone = [
        sid
        for sid in revocation
        if not _not_applicable(state, sid)
        and (
            state.step(sid).status != StepStatus.SUCCEEDED or state.step(sid).outputs.get("failed") or sid in live_steps
        )
    ]
    earlier_cause = next((d.root_cause for d in reversed(state.decisions) if d.root_cause), None)
    cause = root_cause or earlier_cause
    raisers = [sid for sid, action in actions.items() if action in RAISES_FOLLOW_UPS]
    unrun = [sid for sid in raisers if state.step(sid).status not in RAN and not _not_applicable(state, sid)]
    open_items = [f"{f.what} (owner {f.owner or 'unknown'})" for f in state.follow_ups]
    if unrun:
        follow_ups = {
            "met": False,
            "detail": "not known: the steps that raise follow-ups have not all run: "
            + ", ".join(_why_not(state, sid) for sid in unrun),
        }
    elif not open_items:
        follow_ups = {"met": True, "detail": "no follow-ups"}
    elif accept_follow_ups:
        follow_ups = {"met": True, "detail": f"{len(open_items)} follow-up(s) accepted as open"}
    else:
        follow_ups = {"met": False, "detail": f"{len(open_items)} open follow-up(s): " + "; ".join(open_items)}
    return {
        "credentials_rotated": {
            "met": not undone,
            "detail": "every revocation step succeeded"
            if not undone
            else "not done: " + ", ".join(_undone(state, sid) for sid in undone),
        },
        "root_cause_recorded": {"met": bool(cause), "detail": cause or "no root cause recorded (--root-cause)"},
        "follow_ups_closed": follow_ups,
    }


def sealed(report: CaseReport) -> dict[str, Any]:
    """The evidence criterion from an `ir verify` report of the case."""
    return {
        "met": report.ok,
        "detail": f"ir verify: {report.records} records, {report.evidence} evidence files intact"
        if report.ok
        else report.problems[0],
    }


def assess(
    case_dir: Path,
    state: CaseState,
    *,
    root_cause: str | None,
    accept_follow_ups: bool,
    report: CaseReport | None = None,
) -> dict[str, Any]:
    """Each criterion: met or not, and why (`report`: an `ir verify` of the case already made, else one is made)."""
    found = journal_criteria(state, step_actions(case_dir), root_cause=root_cause, accept_follow_ups=accept_follow_ups)
    found["evidence_sealed"] = sealed(report or verify_case(case_dir))
    return {name: found[name] for name in CRITERIA}


def decide(
    case_dir: Path,
    *,
    decision: Decision,
    by: str,
    reason: str,
    approve_as: str | None,
    second_approver: bool,
    trust: Trust | None = None,
    key: Path | None = None,
    approve_key: Path | None = None,
    root_cause: str | None = None,
    accept_follow_ups: bool = False,
) -> Record:
    """Record a signed decision in the case's journal; ApprovalRefused (recorded too) when it may not stand.

    NoSigner (nothing recorded) when the decider, or the second approver, has no allowed responder key.
    """
    if not reason.strip():
        raise InputError("a decision needs a reason (--reason)")
    if not by.strip():
        raise InputError("a decision needs the person deciding (--by)")
    trust = trust or case_trust(case_dir)
    signers = [signer_for(trust, by, key, decide=True)]
    if approve_as:
        signers.append(signer_for(trust, approve_as, approve_key, decide=True, env=False))
        if signers[1][0].key.fingerprint == signers[0][0].key.fingerprint:
            raise NoSigner(
                f"{approve_as} approves with the same key as {by} ({signers[0][0].key.fingerprint}): "
                "the two-person rule needs two distinct keys"
            )
    with Journal(case_dir).open() as journal:
        state = CaseState.replay(journal.records)
        if not state.started:
            raise InputError(f"{case_dir}: journal has no run.started record")
        criteria = assess(case_dir, state, root_cause=root_cause, accept_follow_ups=accept_follow_ups)
        unmet = [name for name, c in criteria.items() if not c["met"]]
        refusal = None
        if decision == Decision.REENABLE and unmet:
            refusal = "re-enable refused: criteria not met: " + "; ".join(
                f"{n} ({criteria[n]['detail']})" for n in unmet
            )
        elif decision == Decision.REENABLE and second_approver and (not approve_as or approve_as == by):
            refusal = f"re-enable refused: the workspace requires a second approver who is not {by} (--approve-as WHO)"
        base = {
            "decision": str(decision),
            "by": by,
            "reason": reason,
            "approved_by": approve_as,
            "criteria": criteria,
            "root_cause": root_cause,
            "accepted_follow_ups": accept_follow_ups and bool(state.follow_ups),
            "evidence": [{"name": e["name"], "sha256": e["sha256"]} for e in state.evidence],
            "agent": state.started.get("agent", {}).get("id"),
        }
        if refusal:
            journal.append(Kind.DECISION_REFUSED, {**base, "why": refusal})
            sign_head(journal, state.case_id, trust, by, key, "decision")
            raise ApprovalRefused(refusal)
        head = journal.records[-1]
        data = journal.stamped(
            {
                **base,
                "approved": bool(approve_as) or not second_approver,
                "follows": {"seq": head.seq, "hash": head.hash},
            }
        )
        record = journal.append(Kind.DECISION, sign_decision(state.case_id, data, signers))
        sign_head(journal, state.case_id, trust, by, key, "decision")
        return record


def approved(state: CaseState, decision: Decision) -> RecordedDecision | None:
    """The latest decision of the case, if it is `decision` and approved."""
    if not state.decisions:
        return None
    last = state.decisions[-1]
    return last if last.get("decision") == str(decision) and last.get("approved") else None


def release_check(
    case_dir: Path, incident: str, trust: Trust | None, *, agent: str | None = None
) -> tuple[str | None, RecordedDecision | None]:
    """(why a release may not run, the approved reenable decision it may run on).

    The decision is looked up in the incident case named by `incident` (a sibling folder of
    `case_dir`), or in `case_dir` itself when no incident is named. The incident case must verify
    completely against `trust` (the workspace's allowed signers now): chain, evidence, pinned
    playbook, every signature. The decision must be the case's latest, signed by the responder
    it names in `by` (and under the two-person rule by the `approved_by` named, with a distinct
    key), and record every criterion met. With `agent`, the decision and the incident's run must
    both be about that agent.
    """
    folder = case_dir.parent / incident if incident else case_dir
    incident = incident or case_dir.name
    if not (folder / JOURNAL_FILE).is_file():
        return f"incident case {incident!r} not found in {case_dir.parent}", None
    if trust is None:
        return "no allowed signers were given, so no decision can be trusted to release", None
    checked = read(folder / JOURNAL_FILE)
    if checked.problems:
        return f"case {incident}: journal damaged (ir verify {incident}): {checked.problems[0]}", None
    records = checked.records
    try:
        state = CaseState.replay(records)
    except IrError as exc:  # a record that chains but does not parse
        return f"case {incident}: journal unreadable: {exc}", None
    decision = approved(state, Decision.REENABLE)
    if decision is None:
        return (
            f"case {incident} has no approved reenable decision (ir decide {incident} --decision reenable ...)"
        ), None
    seq = int(decision.seq)
    where = f"the reenable decision of case {incident} (journal seq {seq})"
    if not decision.signatures:
        return f"{where} is unsigned; decide again, signed", None
    good, problems = decision_signers(
        case_id_of(records, folder), records[seq - 1].data, records[seq - 2] if seq > 1 else None, trust
    )
    if problems:
        return f"{where} does not verify: {problems[0]}", None
    need = 2 if trust.second_approver else 1
    if len(good) < need or (trust.second_approver and not decision.approved_by):
        return (
            f"{where} carries {len(good)} allowed responder signature(s); the workspace requires {need} "
            "from distinct keys"
        ), None
    unmet = unmet_criteria(decision)
    if unmet:
        return f"{where} does not record every criterion met: {', '.join(unmet)}", None
    if agent is not None and (decision.agent != agent or state.agent_id != agent):
        return (
            f"case {incident} is about agent {state.agent_id} (its decision: {decision.agent}), "
            f"not {agent}: a decision releases only the agent it was made for"
        ), None
    report = verify_case(folder, trust=trust)
    if not report.ok:
        return f"case {incident} does not verify (ir verify {incident}): {report.problems[0]}", None
    return None, decision


def unmet_criteria(decision: RecordedDecision) -> list[str]:
    """The criteria a decision does not record as met (each of CRITERIA must be there, met)."""
    recorded = decision.criteria
    named = list(dict.fromkeys([*CRITERIA, *recorded]))
    return [n for n in named if not (isinstance(recorded.get(n), dict) and recorded[n].get("met") is True)]

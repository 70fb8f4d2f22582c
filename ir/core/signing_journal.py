"""Signatures in a case journal: signed heads (`checkpoint` records) and signed decisions.

A checkpoint signs `{"case", "seq", "hash", "type": "checkpoint"}` of the record just before
it; a decision signs `{"case", "type": "decision", "record": <its data but signatures>}`, whose
`follows` names the record just before it. Both are canonical JSON, so a signature made for
one case, or for another place in the journal, does not verify here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.core.errors import IrError
from ir.core.journal import Journal, Record, canonical
from ir.core.records import Kind
from ir.core.redaction import redact
from ir.core.signing import NAMESPACE, BadSignature, PrivateKey, sign, verify
from ir.core.signing_trust import RESPONDER, Signer, Trust, signer_for

if TYPE_CHECKING:
    from ir.core.events import RunSummary
    from ir.core.recorder import Recorder

CHECKPOINT = Kind.CHECKPOINT


def checkpoint_bytes(case: str, seq: int, hash_: str) -> bytes:
    """What a checkpoint signs: the case and one record's place and hash."""
    return canonical({"case": case, "seq": seq, "hash": hash_, "type": CHECKPOINT})


def decision_bytes(case: str, data: Mapping[str, Any]) -> bytes:
    """What a decision's signers sign: the case and every field of the decision but its signatures."""
    return canonical({"case": case, "type": "decision", "record": {k: v for k, v in data.items() if k != "signatures"}})


def case_id_of(records: Sequence[Record], case_dir: Path) -> str:
    """The case id the journal's run.started names (the folder name when it has none)."""
    first = records[0] if records else None
    if first is not None and first.type == "run.started" and first.data.get("case"):
        return str(first.data["case"])
    return case_dir.name


@dataclass(frozen=True)
class Signed:
    """The outcome of signing a head: who signed which record, or why nothing was signed."""

    seq: int
    hash: str
    principal: str | None = None
    unsigned: str | None = None


def sign_head(
    journal: Journal,
    case_id: str,
    trust: Trust | None,
    actor: str,
    key: Path | None,
    reason: str,
    writer: Callable[[str, Mapping[str, Any]], Record] | None = None,
    *,
    own: bool = False,
) -> Signed:
    """Append a checkpoint signing the journal's head, when an allowed key is at hand.

    `writer` appends the record (the engine's recorder, so the checkpoint is also an event);
    with `own`, only a key allowed for `actor` itself signs (not a service or another person's key).
    """
    head = journal.records[-1]
    if trust is None:
        return Signed(head.seq, head.hash, unsigned="journal head not signed: no allowed signers were given")
    try:
        signer, private = signer_for(trust, actor, key, decide=False)
    except IrError as exc:
        return Signed(head.seq, head.hash, unsigned=f"journal head not signed: {exc}")
    if own and signer.principal != actor:
        return Signed(
            head.seq,
            head.hash,
            unsigned=f"journal head not signed: {actor} approved steps, and the key found "
            f"({signer.key.fingerprint}) is {signer.principal}'s, not {actor}'s "
            f"(run `ir keys init --as {actor}`, or name {actor}'s key with --key)",
        )
    data = {
        "signed": {"seq": head.seq, "hash": head.hash},
        "principal": signer.principal,
        "key": signer.key.fingerprint,
        "namespace": NAMESPACE,
        "reason": reason,
        "signature": sign(private, checkpoint_bytes(case_id, head.seq, head.hash)),
    }
    (writer or journal.append)(CHECKPOINT, data)
    return Signed(head.seq, head.hash, principal=signer.principal)


def sign_run(
    summary: RunSummary, rec: Recorder, trust: Trust | None, actor: str, key: Path | None, reason: str
) -> RunSummary:
    """Checkpoint the head a run or resume ended on; the summary says who signed it, or why not.

    When the run granted approvals (always in the actor's name), only a key allowed for the actor
    signs: a checkpoint by another principal would not show who approved.
    """
    approved = any(r.type == Kind.APPROVAL_GRANTED for r in _since_checkpoint(rec.journal.records))
    signed = sign_head(rec.journal, rec.case_id, trust, actor, key, reason, writer=rec.write, own=approved)
    return dataclasses.replace(
        summary, head=(signed.seq, signed.hash), signed_by=signed.principal, unsigned=signed.unsigned
    )


def sign_decision(
    case_id: str, data: Mapping[str, Any], signers: Sequence[tuple[Signer, PrivateKey]]
) -> dict[str, Any]:
    """`data` (redacted as the journal will store it) with one signature per (Signer, private key)."""
    body = redact(dict(data))
    message = decision_bytes(case_id, body)
    body["signatures"] = [
        {"principal": s.principal, "role": s.role, "key": s.key.fingerprint, "signature": sign(k, message)}
        for s, k in signers
    ]
    return dict(body)


def _since_checkpoint(records: Sequence[Record]) -> Sequence[Record]:
    """The records after the journal's last checkpoint (all of them when it has none)."""
    last = next((i for i in range(len(records) - 1, -1, -1) if records[i].type == CHECKPOINT), -1)
    return records[last + 1 :]


def decision_signers(
    case_id: str, data: Mapping[str, Any], before: Record | None, trust: Trust
) -> tuple[list[str], list[str]]:
    """(allowed responder principals whose signatures verify, problems) for one decision record."""
    follows = data.get("follows")
    problems: list[str] = []
    if before is None or follows != {"seq": before.seq, "hash": before.hash}:
        problems.append("it was signed for another place (its `follows` is not the record before it)")
    message = decision_bytes(case_id, data)
    good: list[str] = []
    keys: set[str] = set()
    for entry in data.get("signatures") or []:
        who = str(entry.get("principal"))
        try:
            info = verify(str(entry.get("signature")), message)
        except BadSignature as exc:
            problems.append(f"the signature of {who} does not verify for case {case_id} ({exc})")
            continue
        allowed = trust.allowed(who, info.fingerprint)
        if allowed is None:
            problems.append(f"{who} ({info.fingerprint}) is not an allowed signer in {trust.source}")
        elif allowed.role != RESPONDER:
            problems.append(f"{who} signed with a {allowed.role} key, which never decides")
        elif info.fingerprint in keys:
            problems.append(f"{who} signed with a key that already signed it (two people need two keys)")
        else:
            keys.add(info.fingerprint)
            good.append(who)
    problems.extend(_named_signers(data, good))
    return good, problems


def _named_signers(data: Mapping[str, Any], good: Sequence[str]) -> list[str]:
    """Problems when the decider (`by`) or the approver (`approved_by`) did not sign the decision themselves."""
    problems = []
    for field_name, who in (("by", data.get("by")), ("approved_by", data.get("approved_by"))):
        if who and who not in good:
            problems.append(
                f"it names {who} in `{field_name}` but carries no allowed responder signature of {who} "
                f"(signed by: {', '.join(good) or 'nobody allowed'})"
            )
    return problems


@dataclass
class SignatureReport:
    """What the signatures of a journal prove."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    signed_head: tuple[int, str, str] | None = None
    """(seq, hash, principal) of the last record a checkpoint by an allowed signer signs."""
    demo: bool = False
    unsigned_tail: int = 0
    """Records after the last checkpoint that no live run of this case is writing."""
    live_tail: int = 0
    """Records after the last checkpoint that the live run `live_pid` is writing (its end signs them)."""
    live_pid: int | None = None
    unsigned_decisions: int = 0
    """Decisions without signatures (made before signing existed); they release nothing."""
    unsigned_case: bool = False
    """No checkpoint at all: a case made before signing existed, never signed, or stripped."""
    unbound_approvals: int = 0
    """Approvals covered by a checkpoint another principal signed (nothing proves who approved)."""


def check_journal(
    records: Sequence[Record], case_dir: Path, trust: Trust, *, live_pid: int | None, journal: str
) -> SignatureReport:
    """Every checkpoint and decision signature of `records`, checked against `trust`.

    `live_pid` is the pid of a live `ir` run writing this case (records after its last
    checkpoint are its own, signed when it ends), or None.
    """
    report = SignatureReport()
    case_id = case_id_of(records, case_dir)
    last_checkpoint = 0
    approvals: list[Record] = []
    for index, rec in enumerate(records):
        where = f"{journal}:{rec.seq}"
        before = records[index - 1] if index else None
        if rec.type == Kind.APPROVAL_GRANTED:
            approvals.append(rec)
        elif rec.type == CHECKPOINT:
            problem, signer, made = _check_checkpoint(rec, before, case_id, trust)
            if made:  # a real signature over the record before it, allowed or not: the head is signed by someone
                last_checkpoint = rec.seq
            if problem:
                report.problems.append(f"{where}: checkpoint {problem}")
                continue
            assert before is not None and signer is not None
            _unbound(report, journal, approvals, rec.seq, signer.principal)
            approvals = []
            report.signed_head = (before.seq, before.hash, signer.principal)
            report.demo = signer.demo
        elif rec.type == "decision":
            what = f"{where}: decision {rec.data.get('decision')} by {rec.data.get('by')}"
            entries = rec.data.get("signatures")
            if not entries:
                report.unsigned_decisions += 1
                report.warnings.append(f"{what} is unsigned (it cannot release the agent)")
                continue
            malformed = _malformed_signatures(entries)
            if malformed:
                report.problems.append(f"{what}: {malformed}")
                continue
            _good, problems = decision_signers(case_id, rec.data, before, trust)
            report.problems.extend(f"{what}: {p}" for p in problems)
    _report_head(report, records, last_checkpoint, live_pid, journal, trust)
    return report


def _unbound(report: SignatureReport, journal: str, approvals: Sequence[Record], seq: int, principal: str) -> None:
    """Warn about each approval the checkpoint at `seq` covers that its signer did not give."""
    for rec in approvals:
        who = rec.data.get("by")
        if who != principal:
            report.unbound_approvals += 1
            report.warnings.append(
                f"{journal}:{rec.seq}: approval of step {rec.data.get('step')} by {who} is covered by a checkpoint "
                f"signed by {principal} (seq {seq}), not by {who}: nothing proves {who} approved it"
            )


def _report_head(
    report: SignatureReport,
    records: Sequence[Record],
    last_checkpoint: int,
    live_pid: int | None,
    journal: str,
    trust: Trust,
) -> None:
    """The unsigned case or tail, said so that nobody mistakes it for proof."""
    if not records:
        return
    first, last = last_checkpoint + 1, records[-1].seq
    if last_checkpoint == 0:
        report.unsigned_case = True
        signs = (
            "; this workspace has allowed signers, so a case run here since then carries checkpoints"
            if trust.workspace is not None and trust.entries()
            else ""
        )
        live = f"; seq 1..{last} are being written by the live run pid {live_pid}" if live_pid else ""
        report.warnings.append(
            f"{journal}: no signed head: nothing proves who wrote this case. A case made before signing "
            f"existed looks exactly like one whose checkpoints were stripped or cut off{signs}{live}. "
            "Check its head against one kept elsewhere (--expect-head SEQ:HASH), or refuse unsigned cases (--strict)"
        )
    elif first <= last and live_pid is not None:
        report.live_tail, report.live_pid = last - last_checkpoint, live_pid
        report.warnings.append(
            f"{journal}: seq {first}..{last} come after the last checkpoint, being written by the live run "
            f"pid {live_pid} (its end-of-run checkpoint signs them)"
        )
    elif first <= last:
        report.unsigned_tail = last - last_checkpoint
        report.warnings.append(
            f"{journal}: unsigned tail: seq {first}..{last} come after the last checkpoint and no live run "
            "of this case is writing them (nothing proves who wrote them)"
        )


def _malformed_signatures(entries: object) -> str | None:
    """Why a decision's `signatures` is not a list of signature objects, or None when it is one."""
    if not isinstance(entries, list):
        return f"its signatures are not a list ({type(entries).__name__})"
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("signature"), str):
            return f"signature {number} is malformed (not an object with a signature)"
    return None


def _check_checkpoint(
    rec: Record, before: Record | None, case_id: str, trust: Trust
) -> tuple[str | None, Signer | None, bool]:
    """(problem, allowed signer, whether a real signature over the record before it was made)."""
    signed = rec.data.get("signed")
    if before is None or signed != {"seq": before.seq, "hash": before.hash}:
        return "does not sign the record before it (moved or copied)", None, False
    try:
        info = verify(str(rec.data.get("signature")), checkpoint_bytes(case_id, before.seq, before.hash))
    except BadSignature as exc:
        return f"signature does not verify for case {case_id} ({exc})", None, False
    who = str(rec.data.get("principal"))
    signer = trust.allowed(who, info.fingerprint, before.ts)
    if signer is None:
        return f"signed by {who} with {info.fingerprint}, {trust.refusal(who, info.fingerprint, before.ts)}", None, True
    return None, signer, True


def head_status(case_dir: Path, trust: Trust, actor: str, key: Path | None) -> str:
    """One line on the case's head after a write: who signed it, or why it is not signed and how to fix it."""
    from ir.core.journal import JOURNAL_FILE, read

    records = read(case_dir / JOURNAL_FILE).records
    if records and records[-1].type == CHECKPOINT and len(records) > 1:
        head = records[-2]
        return f"journal head: seq {head.seq} sha256 {head.hash} signed by {records[-1].data.get('principal')}"
    try:
        signer_for(trust, actor, key, decide=False)
        why = "no checkpoint was written"
    except IrError as exc:
        why = str(exc)
    return f"journal head not signed: {why}"

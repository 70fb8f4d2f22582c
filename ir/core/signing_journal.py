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
    """(seq, hash, principal) of the last record a checkpoint signs."""
    demo: bool = False
    unsigned_tail: int = 0
    """Records after the last checkpoint that no live run holds the lock for."""
    unsigned_decisions: int = 0
    """Decisions without signatures (made before signing existed); they release nothing."""
    unsigned_case: bool = False
    """No checkpoint at all: a case made before signing existed (or never signed)."""
    unbound_approvals: int = 0
    """Approvals covered by a checkpoint another principal signed (nothing proves who approved)."""


def check_journal(
    records: Sequence[Record], case_dir: Path, trust: Trust, *, live: bool, journal: str
) -> SignatureReport:
    """Every checkpoint and decision signature of `records`, checked against `trust`."""
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
            problem, signer = _check_checkpoint(rec, before, case_id, trust)
            if problem:
                report.problems.append(f"{where}: checkpoint {problem}")
                continue
            assert before is not None and signer is not None
            _unbound(report, journal, approvals, rec.seq, signer.principal)
            approvals = []
            last_checkpoint = rec.seq
            report.signed_head = (before.seq, before.hash, signer.principal)
            report.demo = signer.demo
        elif rec.type == "decision":
            what = f"{where}: decision {rec.data.get('decision')} by {rec.data.get('by')}"
            if not rec.data.get("signatures"):
                report.unsigned_decisions += 1
                report.warnings.append(f"{what} is unsigned (it cannot release the agent)")
                continue
            _good, problems = decision_signers(case_id, rec.data, before, trust)
            report.problems.extend(f"{what}: {p}" for p in problems)
    tail = len(records) - last_checkpoint if records else 0
    if last_checkpoint == 0 and records:
        report.unsigned_case = True
        report.warnings.append(f"{journal}: no signed head (a case made before signing, or never signed)")
    elif tail and not live:
        report.unsigned_tail = tail
        report.warnings.append(
            f"{journal}: unsigned tail: seq {last_checkpoint + 1}..{records[-1].seq} come after the last "
            "checkpoint and no run holds the case"
        )
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


def _check_checkpoint(
    rec: Record, before: Record | None, case_id: str, trust: Trust
) -> tuple[str | None, Signer | None]:
    signed = rec.data.get("signed") or {}
    if before is None or signed != {"seq": before.seq, "hash": before.hash}:
        return "does not sign the record before it (moved or copied)", None
    try:
        info = verify(str(rec.data.get("signature")), checkpoint_bytes(case_id, before.seq, before.hash))
    except BadSignature as exc:
        return f"signature does not verify for case {case_id} ({exc})", None
    who = str(rec.data.get("principal"))
    signer = trust.allowed(who, info.fingerprint)
    if signer is None:
        return f"signed by {who} ({info.fingerprint}), not an allowed signer in {trust.source}", None
    return None, signer


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

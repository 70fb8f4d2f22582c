"""`ir verify`: prove a case folder is as recorded — journal chain, every evidence byte, the pinned playbook."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ir.core.attach import SPOOL_DIR, spooled_notes
from ir.core.case import PLAYBOOK_FILE
from ir.core.derived import check_derived
from ir.core.errors import InputError
from ir.core.evidence import EvidenceStore, leftover_part_warnings
from ir.core.journal import JOURNAL_FILE, is_open, read
from ir.core.live_run import live_run_pid
from ir.core.playbook import content_hash
from ir.core.records import Kind
from ir.core.signing_journal import SignatureReport, check_journal
from ir.core.signing_trust import Trust, case_trust
from ir.core.yamlsafe import YamlInputError, load_file

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass
class CaseReport:
    """What `ir verify` found."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: int = 0
    evidence: int = 0
    head: tuple[int, str] = (0, "")
    signatures: SignatureReport = field(default_factory=SignatureReport)
    """Signed head, unsigned tail, and every signature problem (also in `problems`)."""

    @property
    def ok(self) -> bool:
        """True when nothing was altered."""
        return not self.problems


def verify_case(
    case_dir: Path, *, trust: Trust | None = None, expect_head: tuple[int, str] | None = None
) -> CaseReport:
    """Check a case folder; the first problem names the bad record or file.

    Signatures are checked against `trust`, by default the allowed signers of the workspace
    the case folder is in; `expect_head` (seq, hash or a prefix of it) must be in the journal.
    """
    report = CaseReport()
    journal = case_dir / JOURNAL_FILE
    checked = read(journal)
    report.records, report.head = len(checked.records), checked.head
    report.problems.extend(checked.problems)
    if not checked.records and not checked.problems:
        report.problems.append(f"{journal}: journal is empty (no record of the case survives)")
    trust = case_trust(case_dir) if trust is None else trust
    report.warnings.extend(note for _who, note in trust.ignored)
    live_pid = live_run_pid(case_dir, checked.records) if is_open(case_dir) else None
    report.signatures = check_journal(checked.records, case_dir, trust, live_pid=live_pid, journal=str(journal))
    report.problems.extend(report.signatures.problems)
    report.warnings.extend(report.signatures.warnings)
    report.warnings.extend(spooled_notes(case_dir, live_pid))  # attach requests not journalled (yet)
    if expect_head is not None:
        seq, prefix = expect_head
        found = checked.records[seq - 1].hash if 0 < seq <= len(checked.records) else None
        if found is None or not found.startswith(prefix):
            report.problems.append(
                f"{journal}: expected head seq {seq} sha256 {prefix} is not in the journal "
                + (
                    f"(seq {seq} is {found[:16]}…; rewritten?)"
                    if found
                    else f"(it ends at seq {report.head[0]}; rolled back?)"
                )
            )
    if checked.torn:
        report.warnings.append(checked.torn)
    store = EvidenceStore(case_dir)
    referenced: set[str] = set()
    for rec in checked.records:
        if rec.type == Kind.EVIDENCE_ADDED:
            sha, size = str(rec.data.get("sha256")), rec.data.get("size")
            referenced.add(sha)
            report.evidence += 1
            if not _SHA256.fullmatch(sha) or not (size is None or type(size) is int):
                report.problems.append(f"{journal}:{rec.seq}: evidence record without a sha256 and size")
                continue
            problem = store.check(sha, size)
            if problem:
                report.problems.append(f"{problem} (evidence {rec.data.get('name')!r}, journal seq {rec.seq})")
        elif rec.type == Kind.RUN_STARTED:
            book = rec.data.get("playbook")
            book = book if isinstance(book, dict) else {}
            report.problems.extend(
                _check_playbook(case_dir / PLAYBOOK_FILE, str(book.get("sha256")), book.get("text_sha256"))
            )
    report.warnings.extend(leftover_part_warnings(case_dir))
    derived = check_derived(case_dir, checked.records)  # timeline.jsonl, ansible artifacts
    report.problems.extend(derived.problems)
    spool = f"{case_dir / SPOOL_DIR}/"
    report.warnings.extend(w for w in derived.warnings if not w.startswith(spool))  # said above, plainly
    for sha in store.blobs():
        if sha not in referenced:
            report.warnings.append(
                f"{case_dir}/evidence/sha256/{sha[:2]}/{sha}: "
                "not referenced by the journal (left by an interrupted capture?)"
            )
    return report


def parse_head(text: str) -> tuple[int, str]:
    """`SEQ:HASH` (a full sha256 or a prefix of at least 12 hex digits) as (seq, hash)."""
    seq, sep, digest = text.strip().partition(":")
    digest = digest.lower()
    if (
        not sep
        or not seq.isdigit()
        or int(seq) < 1
        or not (12 <= len(digest) <= 64)
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise InputError(f"--expect-head {text!r}: expected SEQ:HASH (hash: sha256 hex, at least 12 digits)")
    return int(seq), digest


def _check_playbook(path: Path, pinned: str, text_sha256: str | None) -> list[str]:
    try:
        if text_sha256 and hashlib.sha256(path.read_bytes()).hexdigest() != text_sha256:
            return [f"{path}: pinned playbook file changed (its bytes no longer match the journal)"]
        actual = content_hash(load_file(path).data)
    except (YamlInputError, OSError) as exc:
        return [f"{path}: pinned playbook unreadable: {exc}"]
    if actual != pinned:
        return [f"{path}: pinned playbook changed (content hash {actual[:12]}, journal says {pinned[:12]})"]
    return []

"""`ir verify`: prove a case folder is as recorded — journal chain, every evidence byte, the pinned playbook."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ir.core.case import PLAYBOOK_FILE
from ir.core.derived import check_derived
from ir.core.evidence import EvidenceStore
from ir.core.journal import JOURNAL_FILE, read
from ir.core.playbook import content_hash
from ir.core.yamlsafe import YamlInputError, load_file


@dataclass
class CaseReport:
    """What `ir verify` found."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: int = 0
    evidence: int = 0
    head: tuple[int, str] = (0, "")

    @property
    def ok(self) -> bool:
        """True when nothing was altered."""
        return not self.problems


def verify_case(case_dir: Path) -> CaseReport:
    """Check a case folder; the first problem names the bad record or file."""
    report = CaseReport()
    checked = read(case_dir / JOURNAL_FILE)
    report.records, report.head = len(checked.records), checked.head
    report.problems.extend(checked.problems)
    if checked.torn:
        report.warnings.append(checked.torn)
    store = EvidenceStore(case_dir)
    referenced: set[str] = set()
    for rec in checked.records:
        if rec.type == "evidence.added":
            sha, size = str(rec.data.get("sha256")), rec.data.get("size")
            referenced.add(sha)
            report.evidence += 1
            problem = store.check(sha, int(size) if size is not None else None)
            if problem:
                report.problems.append(f"{problem} (evidence {rec.data.get('name')!r}, journal seq {rec.seq})")
        elif rec.type == "run.started":
            book = rec.data.get("playbook") or {}
            report.problems.extend(
                _check_playbook(case_dir / PLAYBOOK_FILE, str(book.get("sha256")), book.get("text_sha256"))
            )
    derived = check_derived(case_dir, checked.records)  # timeline.jsonl, ansible artifacts
    report.problems.extend(derived.problems)
    report.warnings.extend(derived.warnings)
    for sha in store.blobs():
        if sha not in referenced:
            report.warnings.append(
                f"{case_dir}/evidence/sha256/{sha[:2]}/{sha}: "
                "not referenced by the journal (left by an interrupted capture?)"
            )
    return report


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

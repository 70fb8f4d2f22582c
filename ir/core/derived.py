"""Derived case files (`timeline.jsonl`, Ansible artifacts): hashed into the journal, checked later.

A file the engine writes into a case besides the journal and the evidence store is recorded as
a `derived.added` record `{step, name, path, sha256, size}` right after it is written; a later
record for the same path supersedes an earlier one (a re-run step writes its file again).
`ir verify` fails when a recorded file was changed or removed, and warns about a file in the
case that the journal does not know. The console shows only files that match their record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ir.core.case import PLAYBOOK_FILE
from ir.core.evidence import EvidenceError, hash_file
from ir.core.journal import JOURNAL_FILE, LOCK_FILE, Record, read
from ir.core.records import Kind

_NOT_DERIVED = {JOURNAL_FILE, LOCK_FILE, PLAYBOOK_FILE}
"""Case files with checks of their own (the journal chain, the pinned playbook's hash)."""


def record_data(case_dir: Path, path: Path, *, name: str, step: str | None) -> dict[str, Any]:
    """The `derived.added` payload of `path` (inside `case_dir`), hashed now."""
    try:
        sha256, size = hash_file(path)
    except OSError as exc:
        raise EvidenceError(f"{path}: derived file unreadable, not recorded: {exc.strerror or exc}") from exc
    rel = path.resolve().relative_to(case_dir.resolve()).as_posix()
    return {"step": step, "name": name, "path": rel, "sha256": sha256, "size": size}


def recorded(records: list[Record]) -> dict[str, Record]:
    """The latest `derived.added` record of every path."""
    latest: dict[str, Record] = {}
    for rec in records:
        if rec.type == Kind.DERIVED_ADDED:
            latest[str(rec.data.get("path"))] = rec
    return latest


def _evidence_named(records: list[Record]) -> dict[str, Record]:
    """The latest `evidence.added` record of every name (cases made before derived records kept
    `timeline.jsonl` only as evidence of the same bytes)."""
    return {str(r.data.get("name")): r for r in records if r.type == Kind.EVIDENCE_ADDED}


def _inside(case_dir: Path, rel: str) -> Path | None:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    return case_dir / pure


def state(case_dir: Path, rel: str, rec: Record) -> str:
    """`ok`, `removed`, `changed` or `outside` (a path that leaves the case): file `rel` against `rec`."""
    path = _inside(case_dir, rel)
    if path is None:
        return "outside"
    if not path.is_file():
        return "removed"
    actual, size = hash_file(path)
    return "ok" if actual == rec.data.get("sha256") and size == rec.data.get("size") else "changed"


def problem(case_dir: Path, rel: str, rec: Record) -> str | None:
    """What is wrong with derived file `rel` against its record (one line), or None when it matches."""
    found = state(case_dir, rel, rec)
    if found == "ok":
        return None
    if found == "outside":
        return f"{rel}: derived file path outside the case (journal seq {rec.seq})"
    return f"{case_dir / rel}: derived file {found} after it was recorded (journal seq {rec.seq})"


@dataclass
class DerivedReport:
    """What checking a case's derived files found."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: int = 0


def check_derived(case_dir: Path, records: list[Record]) -> DerivedReport:
    """Every recorded derived file against its hash; files the journal does not know are warned about."""
    report = DerivedReport()
    latest = recorded(records)
    for rel, rec in latest.items():
        report.checked += 1
        found = problem(case_dir, rel, rec)
        if found:
            report.problems.append(found)
    evidence = _evidence_named(records)
    for path in _case_files(case_dir):
        rel = path.relative_to(case_dir).as_posix()
        if rel in latest:
            continue
        if rel in evidence:
            rec = evidence[rel]
            if hash_file(path)[0] != rec.data.get("sha256"):
                report.warnings.append(
                    f"{path}: differs from evidence {rel!r} (journal seq {rec.seq}); "
                    "the case predates derived-file records"
                )
            continue
        report.warnings.append(f"{path}: in the case but not recorded in the journal")
    return report


def _case_files(case_dir: Path) -> list[Path]:
    """Files of the case that are neither journal, lock, pinned playbook, evidence nor hidden."""
    found: list[Path] = []
    for path in sorted(case_dir.rglob("*")):
        rel = path.relative_to(case_dir)
        if not path.is_file() or path.is_symlink():
            continue
        if rel.parts[0] == "evidence" or any(part.startswith(".") for part in rel.parts):
            continue
        if rel.as_posix() in _NOT_DERIVED or rel.name.startswith("journal.torn-"):
            continue
        found.append(path)
    return found


def verified_problem(case_dir: Path, rel: str) -> str | None:
    """For a reader about to show `rel`: None when it matches the journal, else one line saying why not.

    A case made before derived records is accepted when the file matches evidence of the same name.
    """
    checked = read(case_dir / JOURNAL_FILE)
    if checked.problems:
        return f"the journal of this case does not verify; {rel} not shown — run ir verify"
    rec = recorded(checked.records).get(rel) or _evidence_named(checked.records).get(rel)
    if rec is None:
        return f"{rel} is not recorded in the journal; not shown — run ir verify"
    found = state(case_dir, rel, rec)
    if found == "ok":
        return None
    return f"{rel} was {found} after it was recorded (journal seq {rec.seq}); not shown — run ir verify"

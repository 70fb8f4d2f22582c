"""Write a case's incident report (md, html or json) and journal it as a derived file, signed.

The report is built and written under the case's lock, so no run moves the journal while it is
read; a case a live run holds is refused (exit 4) rather than reported half-way. A report
written inside the case is hashed into the journal (`derived.added`) and the new head is
signed like a note's; one written elsewhere (`--out`) is only written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ir.core.derived import record_data, recorded
from ir.core.errors import CaseLocked, ExitCode, InputError, IrError
from ir.core.journal import Journal, Record, is_open
from ir.core.records import Kind
from ir.core.signing_journal import Signed, case_id_of, sign_head
from ir.core.signing_trust import Trust, case_trust
from ir.report.content import build_report
from ir.report.html import render_html
from ir.report.markdown import render_markdown

Format = Literal["md", "html", "json"]
FORMATS: tuple[Format, ...] = ("md", "html", "json")


class CaseHeld(IrError):
    """A live run holds the case: its report would describe a journal that is still moving."""

    exit_code = ExitCode.APPROVAL


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


RENDERERS: dict[Format, Callable[[dict[str, Any]], str]] = {
    "md": render_markdown,
    "html": render_html,
    "json": _json,
}


def render(data: dict[str, Any], fmt: Format) -> str:
    """The report data in one format."""
    return RENDERERS[fmt](data)


@dataclass(frozen=True)
class WrittenReport:
    """Where a report went and how the journal vouches for it."""

    path: Path
    record: Record | None
    """Its `derived.added` record (None when written outside the case)."""
    signed: Signed | None
    """The head signed after it (None when nothing was journalled)."""


def report_text(case_dir: Path, fmt: Format = "md", *, trust: Trust | None = None) -> str:
    """The report of `case_dir` as text, written nowhere (`ir report --out -`)."""
    case_dir = case_dir.resolve()
    with _locked(case_dir):
        return render(build_report(case_dir, trust=trust), _checked(fmt))


def write_report(
    case_dir: Path,
    fmt: Format = "md",
    *,
    out: Path | None = None,
    actor: str,
    trust: Trust | None = None,
    key: Path | None = None,
) -> WrittenReport:
    """Build the report of `case_dir`, write it (default `report.<fmt>` in the case) and journal it."""
    case_dir = case_dir.resolve()
    chosen = out or case_dir / f"report.{_checked(fmt)}"
    target = chosen.parent.resolve() / chosen.name  # a symlink there is replaced, never followed
    trust = case_trust(case_dir) if trust is None else trust
    with _locked(case_dir) as journal:
        inside = target.relative_to(case_dir).as_posix() if target.is_relative_to(case_dir) else None
        if inside is not None and not _may_write(journal, inside, target):
            raise InputError(f"{target}: a case file that is not a report would be overwritten; choose another --out")
        text = render(build_report(case_dir, trust=trust, replacing=inside), fmt)
        _write_atomically(target, text)
        if inside is None:
            return WrittenReport(target, None, None)
        data = record_data(case_dir, target, name=inside, step=None)
        record = journal.append(Kind.DERIVED_ADDED, data)
        signed = sign_head(journal, case_id_of(journal.records, case_dir), trust, actor, key, "report")
        return WrittenReport(target, record, signed)


def _checked(fmt: str) -> Format:
    if fmt not in RENDERERS:
        raise InputError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return fmt  # checked against the renderers just above (mypy narrows the Literal through `in`)


@contextmanager
def _locked(case_dir: Path) -> Iterator[Journal]:
    """The case's journal, locked while the report is read and written; a live run's case is refused."""
    if is_open(case_dir):
        raise CaseHeld(f"{case_dir.name}: a run holds the case; write its report when the run ends or waits")
    try:
        journal = Journal(case_dir).open()
    except CaseLocked as exc:
        raise CaseHeld(f"{case_dir.name}: {exc}") from None
    with journal:
        yield journal


def _may_write(journal: Journal, rel: str, target: Path) -> bool:
    """Whether a report may go to case file `rel`: a new file outside the evidence store and hidden
    files, or a report written there earlier (recorded as derived by no step)."""
    parts = rel.split("/")
    if parts[0] == "evidence" or any(part.startswith(".") for part in parts):
        return False
    if not (target.exists() or target.is_symlink()):
        return True
    rec = recorded(journal.records).get(rel)
    return rec is not None and rec.data.get("step") is None and rec.data.get("name") == rel


def _write_atomically(target: Path, text: str) -> None:
    """Whole or absent: a reader never sees half a report."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".report-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

"""The evidence view: the case at a glance, what is contained now, every file the case holds with
its hash; one key verifies the whole case, and what it found stays on screen (not only in a toast)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ir.core.case import load_state
from ir.core.text import neutralise
from ir.core.verify import CaseReport, verify_case
from ir.tui.widgets.case_header import CaseHeader
from ir.tui.widgets.containment import ContainmentPanel

SHOWN_PROBLEMS = 5
"""Problems listed under the table after a failed verify (the count says how many more)."""


class EvidenceScreen(Screen[None]):
    """A case's evidence: name, sha256, size, step, whether it may hold secrets."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("v", "verify", "Verify case"),
        ("y", "copy_hash", "Copy hash"),  # short: at 80 columns the footer still shows q
        ("escape", "back", "Back"),
    ]

    class Verified(Message):
        """`ir verify` finished."""

        def __init__(self, report: CaseReport) -> None:
            super().__init__()
            self.report = report

    def __init__(self, case_dir: Path, highlight: str | None = None) -> None:
        super().__init__()
        self.case_dir = case_dir
        self.highlight = highlight
        """The sha256 of the item to put the cursor on (from a timeline event)."""
        self.hashes: list[str] = []
        """The sha256 of each table row ("" for an artifact that could not be acquired)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield CaseHeader(self.case_dir)
        yield ContainmentPanel(self.case_dir)
        yield DataTable(id="evidence", cursor_type="row")
        yield Static(Text("press v to verify the journal and every file"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#evidence", DataTable)
        table.border_title = "evidence"
        table.add_columns("name", "sha256", "bytes", "step", "sensitive")
        state = load_state(self.case_dir)
        for item in state.evidence:
            table.add_row(
                neutralise(item.name),
                item.sha256,
                f"{item.size:,}",
                item.step,
                "yes" if item.sensitive else "",
            )
            self.hashes.append(item.sha256)
        for gone in state.unavailable:
            table.add_row(neutralise(gone.name), "unavailable", "", gone.step, neutralise(gone.reason)[:60])
            self.hashes.append("")
        if self.highlight in self.hashes:
            table.move_cursor(row=self.hashes.index(self.highlight))
        table.focus()

    def on_screen_resume(self) -> None:
        """Back from another screen: the case may have moved on."""
        self.query_one(CaseHeader).refresh_case()
        self.query_one(ContainmentPanel).refresh_case()

    def action_copy_hash(self) -> None:
        """Copy the highlighted item's sha256."""
        table = self.query_one("#evidence", DataTable)
        row = table.cursor_row
        if not 0 <= row < len(self.hashes) or not self.hashes[row]:
            self.notify("no file here: nothing to copy", severity="warning")
            return
        self.app.copy_to_clipboard(self.hashes[row])
        self.notify(f"copied sha256 of {neutralise(str(table.get_row_at(row)[0]))}: {self.hashes[row]}", markup=False)

    def action_verify(self) -> None:
        """Check the hash chain and every evidence file, in a worker."""
        self.query_one("#status", Static).update(Text("verifying…"))
        self._verify()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _verify(self) -> None:
        report = verify_case(self.case_dir)
        self.app.call_from_thread(self.post_message, EvidenceScreen.Verified(report))

    @on(Verified)
    def _verified(self, message: Verified) -> None:
        report = message.report
        if report.ok:
            text = (
                f"ok: {report.records} journal records chain correctly, {report.evidence} evidence files match; "
                f"head seq {report.head[0]} sha256 {report.head[1][:16]}…"
            )
            self.notify("case verified")
        else:
            more = len(report.problems) - SHOWN_PROBLEMS
            where = f"{self.case_dir}/"  # paths inside the case, relative: the reason fits on screen
            shown = [f"  {problem.replace(where, '')}" for problem in report.problems[:SHOWN_PROBLEMS]]
            text = "\n".join(
                [f"FAILED: {len(report.problems)} problem(s):", *shown]
                + ([f"  … {more} more (ir verify)"] if more > 0 else [])
            )
            self.notify("verify FAILED: the reason stays under the table", severity="error", timeout=15)
        result = self.query_one("#status", Static)
        result.set_class(not report.ok, "failed")
        result.update(Text(neutralise(text, keep_newlines=True)))

    def action_back(self) -> None:
        """Back to the case."""
        self.app.pop_screen()

"""The alerts screen: the inbox, newest first — what became of each alert (waiting for a person,
contained, folded into an open case, a duplicate, rejected…), its agents and where its cases are
now, with the highlighted alert's details below. Enter opens its case, `y` reviews and approves
the step that waits on it (in the run screen's own approval modal), `d` dismisses a waiting alert
with a reason. The list follows `ir serve` and other responders: a timer looks at the inbox and
the cases folder, and the rows are read again when either changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from ir.alerts.inbox import InboxError
from ir.tui.alert_rows import CLOSED, CaseLink, Entry, inbox_path, inbox_stamp, read_entries, reading
from ir.tui.journal_watch import cases_stamp
from ir.tui.screens.listing import ListingScreen
from ir.tui.widgets.alert_details import COLUMNS, cells, details
from ir.tui.widgets.breaker_banner import BreakerBanner
from ir.tui.widgets.details import DetailsPane


class AlertsScreen(ListingScreen):
    """Alerts from the inbox with their outcome, agents and cases; what waits for a person."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open case", priority=True),  # over the table's own (hidden) Enter
        Binding("y", "approve", "Approve"),
        Binding("d", "dismiss_alert", "Dismiss"),
    ]
    COLUMNS = COLUMNS
    TABLE_ID = "alerts"
    TITLE_TEXT = "alerts (the inbox, newest first)"

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, Entry] = {}
        self.breaker = CLOSED

    def above_table(self) -> ComposeResult:
        yield BreakerBanner()

    def below_table(self) -> ComposeResult:
        yield DetailsPane(id="alert-details")

    @property
    def inbox(self) -> Path:
        """The workspace's inbox file."""
        return inbox_path(self.app.workspace)  # type: ignore[attr-defined]

    def stamp(self) -> object:
        return inbox_stamp(self.inbox), cases_stamp(self._cases_dir())

    def rows(self) -> Iterable[tuple[str, Sequence[str | Text]]]:
        try:
            entries, self.breaker = read_entries(self.inbox, self._cases_dir())
        except InboxError as exc:
            self.notify(str(exc), severity="error", timeout=10, markup=False)
            entries = []
        self.entries = {entry.key: entry for entry in entries}
        for entry in entries:
            yield entry.key, cells(entry)

    def refill(self) -> None:
        """Read the inbox and the cases again; the banner and the details follow."""
        super().refill()
        self.query_one(BreakerBanner).show(self.breaker)
        self._show_details()

    @property
    def selected(self) -> Entry | None:
        """The highlighted alert."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self.entries.get(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def _show_details(self) -> None:
        entry = self.selected
        pane = self.query_one(DetailsPane)
        text = details(entry) if entry else Text("No alerts in the inbox yet (ir serve, ir contain --alert FILE).")
        if text != pane.text:  # the same alert, unchanged: keep where the person scrolled to
            pane.show(text)
        pane.border_title = f"alert {entry.ref}" if entry else "alert"
        self.refresh_bindings()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_details()

    # -- keys -------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the keys that do something for the highlighted alert."""
        entry = self.selected
        if action == "open":
            return entry is not None and bool(entry.openable)
        if action == "approve":
            return entry is not None and bool(entry.approvable)
        if action == "dismiss_alert":
            return entry is not None and entry.outcome == "waiting"
        return True

    def open(self, key: str) -> None:
        """Open the alert's case on the run screen (choose the agent's when it has several)."""
        from ir.tui.screens.run import RunScreen

        entry = self.entries.get(key)
        if entry is None or not entry.openable:
            self.notify(f"alert {entry.ref if entry else key} has no case to open", severity="warning")
            return
        self._one_case(entry.openable, "Open which case?", lambda case: self.app.push_screen(RunScreen(case_dir=case)))

    def action_approve(self) -> None:
        """Review the step that waits on the alert's case in the approval modal, on its run screen."""
        entry = self.selected
        if entry is not None and entry.approvable:
            self._one_case(entry.approvable, "Approve on which case?", lambda case: self.call_later(self._review, case))

    async def _review(self, case_dir: Path) -> None:
        """Open the case's run screen, then its approval modal for the step that waits there now."""
        from ir.tui.screens.run import RunScreen

        screen = RunScreen(case_dir=case_dir)
        await self.app.push_screen(screen)
        if screen.check_action("approve", ()):
            screen.action_approve()
        else:
            screen.notify(f"{case_dir.name}: nothing waits for an approval here now", severity="warning")

    def _one_case(self, cases: tuple[CaseLink, ...], question: str, then: Callable[[Path], Any]) -> None:
        """`then(case)` on the only case, or on the one the person picks."""
        if len(cases) == 1 and cases[0].case is not None:
            then(cases[0].case)
            return
        found = {str(c.case): c.case for c in cases if c.case is not None}
        choices = [(str(c.case), f"{c.agent}: {c.case.name} ({c.status})") for c in cases if c.case is not None]

        def chosen(key: str | None) -> None:
            if key in found:
                then(found[key])

        from ir.tui.screens.prompt import ChoicePrompt

        self.app.push_screen(ChoicePrompt(question, choices), chosen)

    def action_dismiss_alert(self) -> None:
        """Dismiss the waiting alert: a person decides it needs nothing (the reason is kept in the inbox)."""
        from ir.tui.screens.prompt import TextPrompt

        entry = self.selected
        if entry is None or entry.row is None or entry.outcome != "waiting":
            return
        row_id, ref, actor = entry.row.id, entry.ref, self.app.actor  # type: ignore[attr-defined]

        def answered(reason: str | None) -> None:
            if reason:
                self._dismiss(row_id, ref, f"dismissed by {actor}: {reason}")

        self.app.push_screen(
            TextPrompt(f"Dismiss alert {ref}: why does it need nothing?", "kept in the inbox with your name"), answered
        )

    def _dismiss(self, row_id: int, ref: str, reason: str) -> None:
        try:
            with reading(self.inbox) as inbox:
                row = inbox.alert(row_id) if inbox else None
                if inbox is None or row is None or row.outcome != "waiting":  # assigned or dismissed meanwhile
                    now = row.outcome if row else "gone"
                    self.notify(f"alert {ref} is {now} now, not waiting: nothing dismissed", severity="warning")
                else:
                    inbox.settle(row_id, "dismissed", reason)
                    self.notify(f"alert {ref} dismissed")
        except InboxError as exc:
            self.notify(str(exc), severity="error", timeout=10, markup=False)
        self.refill()

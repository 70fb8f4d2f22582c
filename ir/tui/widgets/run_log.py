"""The run screen's output log: one plain-text line per record or event worth one."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import RichLog

from ir.core.journal import Record
from ir.core.records import Payload, payload_of
from ir.core.text import neutralise
from ir.tui.run_lines import log_line


class RunLog(RichLog):
    """What happened in a run, as lines: a reopened case's journal at once, then live events as they come.

    Text from the agent's world is neutralised and never read as markup.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False)

    def add(self, payload: Payload) -> None:
        """Log the line one record or event is worth, if any."""
        line = log_line(payload)
        if line is not None:
            self.say(line)

    def replay(self, records: Iterable[Record]) -> None:
        """Log every record of a journal, in order."""
        for rec in records:
            self.add(payload_of(rec, f"journal seq {rec.seq}"))

    def summary(self, lines: Iterable[str]) -> None:
        """The end of a run, as the command line prints it (status, steps, follow-ups, still live, head)."""
        self.write(Text("── end of run ──", style="bold"))
        for line in lines:
            self.say(line)

    def say(self, text: str) -> None:
        """Log one line of our own (an error, a notice)."""
        self.write(Text(neutralise(text)))

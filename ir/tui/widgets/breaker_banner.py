"""A red banner across the top of a screen while the alert breaker stands open (hidden while closed).

The screen that holds it calls `show(breaker)` whenever it reads the inbox again.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ir.alerts.inbox import BreakerState
from ir.tui.alert_rows import banner_line


class BreakerBanner(Static):
    """`AUTOMATION STOPPED by the breaker since …: why — reset: …`, or nothing."""

    DEFAULT_CSS = """
    BreakerBanner {
        height: auto;
        padding: 0 1;
        background: $error;
        color: $text;
        text-style: bold;
        display: none;
    }
    BreakerBanner.open { display: block; }
    """

    def __init__(self, *, id: str | None = "breaker-banner") -> None:
        super().__init__(id=id)
        self.line = ""

    def show(self, breaker: BreakerState) -> None:
        """Show the breaker's state: the banner while it is open, nothing while it is closed."""
        self.line = banner_line(breaker)
        self.update(Text(self.line))
        self.set_class(bool(self.line), "open")

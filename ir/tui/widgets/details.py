"""A pane that shows one record as plain text and repaints without a layout pass."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class DetailsPane(Widget):
    """Plain text in a fixed-size pane: updating it redraws the pane only (no re-layout)."""

    DEFAULT_CSS = """
    DetailsPane { height: 1fr; width: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.text = Text("")

    def show(self, text: Text) -> None:
        """Replace the text (world text must already be neutralised)."""
        self.text = text
        self.refresh()

    def render(self) -> Text:
        return self.text

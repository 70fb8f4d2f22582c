"""A pane that shows one record as plain text, scrolls when it is taller than the pane, and
repaints without a layout pass."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class DetailsPane(ScrollView, can_focus=True):
    """Plain text, wrapped to the pane: updating it redraws the pane only (no re-layout); at 80×24
    the end of a long record (where it was recorded, the raw record) is reached by scrolling."""

    DEFAULT_CSS = """
    DetailsPane { height: 1fr; width: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.text = Text("")
        self._lines: list[Strip] = []

    def show(self, text: Text) -> None:
        """Replace the text (world text must already be neutralised) and scroll to its top."""
        self.text = text
        self._wrap()
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def _wrap(self) -> None:
        """Cut the text into screen lines of the pane's width (again when the pane is resized)."""
        width = self.scrollable_content_region.width
        if width <= 0:
            self._lines = []
            return
        console = self.app.console
        self._lines = [Strip(list(line.render(console)), line.cell_len) for line in self.text.wrap(console, width)]
        self.virtual_size = Size(width, len(self._lines))

    def on_resize(self) -> None:
        self._wrap()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """Screen line `y` of the wrapped text."""
        width = self.scrollable_content_region.width
        line = int(self.scroll_offset.y) + y
        if line >= len(self._lines):
            return Strip.blank(width)
        return self._lines[line].extend_cell_length(width).crop(0, width)

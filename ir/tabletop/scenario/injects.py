"""A scenario's injects: what happens to the team — a card, an alert, log lines, world changes —
on the exercise clock or after another inject."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ir.core.inventory import Frozen
from ir.tabletop.scenario.terms import ID, Condition, Duration
from ir.tabletop.scenario.world import WorldChange


class Card(Frozen):
    """A narrative card handed to a role."""

    title: str
    """Card title."""
    body: str = ""
    """Markdown."""
    to: str | None = None
    """Role id (default: everyone)."""


class AlertInject(Frozen):
    """An alert in a real source format, delivered through the alert path (inbox, routes, policies)."""

    source: str
    """Source name in the exercise's `alerts.sources` (its format decides how it is read)."""
    file: str | None = None
    """Body from a file, relative to the scenario file."""
    body: Any = None
    """Body inline (a mapping or a list, as the source sends it)."""

    @model_validator(mode="after")
    def _one_body(self) -> AlertInject:
        if (self.file is None) == (self.body is None):
            raise ValueError("give exactly one of file or body")
        return self


class LogInject(Frozen):
    """Lines appended to one of the world's log files (the timeline grows during the exercise)."""

    path: str
    """A path in `world.logs`."""
    lines: tuple[str, ...]
    """Lines appended, each ending in a newline."""


class Inject(Frozen):
    """Something that happens to the team: on the clock (`at`) or after another inject (`after`)."""

    id: str = Field(pattern=ID)
    """Short id, e.g. `I1`."""
    title: str
    """What happens, in a few words (the exercise panel and the report show it)."""
    at: Duration | None = None
    """Exercise time it is delivered at (from the start, pauses excluded)."""
    after: str | None = None
    """Deliver this long (`delay`) after that inject was delivered."""
    delay: Duration = "0s"
    """With `after`: how long after."""
    unless: Condition | None = None
    """A condition; when it holds at delivery time the inject is skipped (recorded as such)."""
    card: Card | None = None
    """A narrative card."""
    alert: AlertInject | None = None
    """An alert through the alert path."""
    logs: tuple[LogInject, ...] = ()
    """Log lines appended."""
    world: tuple[WorldChange, ...] = ()
    """World changes."""

    @model_validator(mode="after")
    def _when_and_what(self) -> Inject:
        if (self.at is None) == (self.after is None):
            raise ValueError("give exactly one of at or after")
        if not (self.card or self.alert or self.logs or self.world):
            raise ValueError("an inject needs a card, an alert, logs or world changes")
        return self

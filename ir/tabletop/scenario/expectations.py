"""A scenario's expectations: pass/fail, each tied to an objective, decided from the exercise's
journals and world state (`step`, `order`, `world`, `decision`) or marked by the facilitator
(`manual`). How each is decided: `ir.tabletop.expectations`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ir.core.inventory import Frozen
from ir.tabletop.scenario.terms import ID, Condition, Duration


class StepCheck(Frozen):
    """A step with this action succeeded, within `within` after inject `after` was delivered."""

    action: str
    """Action name, e.g. `container.pause` (or a playbook step id with `step:`)."""
    agent: str | None = None
    """Only the case of this agent (default: any case of the exercise)."""
    after: str | None = None
    """Inject id the deadline counts from (default: the exercise start)."""
    within: Duration | None = None
    """Deadline, exercise time."""


class OrderCheck(Frozen):
    """`first` succeeded before any step in `then` started (`destructive`: a step that stops, deletes,
    isolates or removes — `ir.tabletop.destructive`)."""

    first: str
    """Action name that must come first."""
    then: tuple[str, ...] = ("destructive",)
    """Action names, or `destructive`."""
    agent: str | None = None
    """Only the case of this agent."""


class WorldCheck(Frozen):
    """World state at the end (or at the check): the conditions all hold."""

    all: tuple[Condition, ...]
    """Conditions (see the module docstring), e.g. `revoked(support-bot)`, `frozen(support-bot)`."""


class DecisionCheck(Frozen):
    """A decision was recorded for the agent, signed by a responder."""

    agent: str
    """Whose decision."""
    decision: Literal["reenable", "keep-disabled", "decommission"] | None = None
    """Which decision (default: any)."""
    signed: bool = True
    """The decision's signature verifies."""


class Expectation(Frozen):
    """Pass/fail, tied to an objective, decided from journals and world state (or by the facilitator)."""

    id: str = Field(pattern=ID)
    """Short id, e.g. `E1`."""
    objective: str
    """Objective id it counts for."""
    title: str
    """What is expected, in one sentence."""
    step: StepCheck | None = None
    """A step succeeded in time."""
    order: OrderCheck | None = None
    """An ordering held."""
    world: WorldCheck | None = None
    """World state."""
    decision: DecisionCheck | None = None
    """A signed decision."""
    manual: str | None = None
    """Marked by the facilitator: what they look for."""

    @model_validator(mode="after")
    def _one_check(self) -> Expectation:
        given = [n for n in ("step", "order", "world", "decision", "manual") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of step, order, world, decision or manual")
        return self

    @property
    def kind(self) -> str:
        """step, order, world, decision or manual."""
        return next(n for n in ("step", "order", "world", "decision", "manual") if getattr(self, n) is not None)

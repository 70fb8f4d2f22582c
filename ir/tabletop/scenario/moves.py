"""A scenario's reference response: the moves `ir tabletop run --auto` plays on the exercise clock."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from ir.core.inventory import Frozen
from ir.tabletop.scenario.terms import Duration


class Move(Frozen):
    """One move of the reference response, played by `--auto` on the exercise clock."""

    at: Duration | None = None
    """Exercise time of the move."""
    after: str | None = None
    """Or: this long (`delay`) after that inject was delivered."""
    delay: Duration = "0s"
    """With `after`: how long after."""
    run: str | None = None
    """Start this playbook on `agent` (a responder opening a case)."""
    approve: str | None = None
    """Approve the waiting steps of `agent`'s case: `all`, or a step id."""
    decide: Literal["reenable", "keep-disabled", "decommission"] | None = None
    """Record this decision for `agent` (signed, with `reason`)."""
    mark: str | None = None
    """Mark this manual expectation as passed."""
    agent: str | None = None
    """The agent the move is about."""
    reason: str = "reference response"
    """Why (journalled with approvals and decisions)."""
    role: str | None = None
    """The role making the move (its `as` name in the report)."""

    @model_validator(mode="after")
    def _one(self) -> Move:
        if (self.at is None) == (self.after is None):
            raise ValueError("give exactly one of at or after")
        given = [n for n in ("run", "approve", "decide", "mark") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of run, approve, decide or mark")
        if given[0] != "mark" and self.agent is None:
            raise ValueError(f"{given[0]} needs agent")
        return self

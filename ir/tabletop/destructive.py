"""What `then: [destructive]` in an `order` expectation counts — one definition, read from the engine's
action registry (handed in by the caller: tabletop never imports the actions) and the playbook step.

A step is destructive when it stops, deletes, isolates or removes something the evidence capture
would have recorded:

- its action is marked `destructive` in the registry (`container.stop`: memory is lost), or
- its action `isolates` the agent (`container.isolate_network`: live connections are gone), or
- the playbook step waits for approval (`approval: required`) and its action changes the world
  with no inverse, so it cannot be undone (`credentials.remove_console_access`: the console
  password is deleted; `credentials.rotate_secrets`; `hosts.ansible` running `stop-agent-service`).

Not destructive: freezing (a paused container keeps its memory), revocation that runs without
waiting for anyone (deactivating keys, the deny-all policy, revoking sessions: the playbook runs
them before the capture on purpose, so the attacker's keys die first), the capture itself, reading.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Destructive:
    """The registry's view of destruction: actions that always count, and those that count when their
    step waits for approval."""

    always: frozenset[str]
    """Actions the registry marks `destructive` or `isolates`."""
    irreversible: frozenset[str] = frozenset()
    """Actions that change the world and have no inverse (not evidence capture): destructive in a step
    that waits for approval."""

    @classmethod
    def from_actions(cls, actions: Iterable[Any]) -> Destructive:
        """From the engine's registry (each action's `destructive`, `isolates`, `mutates`, `inverse`,
        `captures_evidence`)."""
        always: set[str] = set()
        irreversible: set[str] = set()
        for action in actions:
            if getattr(action, "destructive", False) or getattr(action, "isolates", False):
                always.add(action.name)
            elif action.mutates and action.inverse is None and not action.captures_evidence:
                irreversible.add(action.name)
        return cls(frozenset(always), frozenset(irreversible))

    def counts(self, action: str | None, approval: bool) -> bool:
        """Whether a step running `action` (waiting for approval or not) is destructive."""
        if action is None:
            return False
        return action in self.always or (approval and action in self.irreversible)


def as_destructive(value: Destructive | Collection[str]) -> Destructive:
    """`value` as a rule (a plain collection of action names: those actions, always)."""
    return value if isinstance(value, Destructive) else Destructive(frozenset(value))

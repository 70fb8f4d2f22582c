"""What the exercise runtime is handed by the CLI: it may not import backends or actions itself.

`EngineFactory` builds an engine on the sandbox's backends with the action registry, reporting
to a handler and signing journal heads with the given key; `WorldChanges` changes the sandbox's
simulated world the way an attacker or the agent would (ir/backends/world_changes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ir.alerts.resolve import ContainerLabels
from ir.core.engine import Engine
from ir.core.events import EventHandler

EngineFactory = Callable[[EventHandler, Path | None], Engine]
"""(event handler, private key that signs journal heads) → a fresh engine on the sandbox."""


class WorldChanges(Protocol):
    """The sandbox's world, changed from outside the response (an inject's `world:` list)."""

    def start(self) -> None:
        """Make sure the world's state exists (seeded from `world.yaml` on first use)."""
        ...

    def apply(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """Make one change (`op` and its fields, as a scenario's `WorldChange` has them, plus
        `container` for egress/spend); return what happened: `{op, applied, why?, …}`. A change
        the world refuses (the key it uses is Inactive, the container is frozen) is not applied."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """The world's state now, read whole under the store's lock (what the exercise keeps at its end)."""
        ...


@dataclass(frozen=True)
class Runtime:
    """Everything the CLI hands an exercise: engines, the world, and container labels for routing."""

    engine_for: EngineFactory
    world: WorldChanges
    container_labels: ContainerLabels | None = None

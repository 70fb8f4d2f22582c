"""What an action is: a verb with a parameter model, `plan`, `execute` and `verify`.

Actions live in `ir/actions/`; the core only knows this interface and the registry. An action
reaches the world through the backends in its `StepContext` and never catches a vendor error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pathlib import Path

    from ir.core.access import WorldAccess
    from ir.core.inventory import Agent
    from ir.core.ports import CloudCredentials, ContainerRuntime, HostAutomation, HttpCalls


class ActionParams(BaseModel):
    """Base of every action's parameter model: frozen, unknown arguments refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


P = TypeVar("P", bound=ActionParams)


@dataclass(frozen=True)
class Change:
    """One thing an action would change: `resource attribute: before → after`."""

    resource: str
    attribute: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.resource} {self.attribute}: {self.before} → {self.after}"


@dataclass(frozen=True)
class Plan:
    """What executing the step would do, read from real state (the dry run)."""

    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Human lines: each change, then each note; `no change` when empty."""
        out = [str(c) for c in self.changes] + list(self.notes)
        return out or ["no change"]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "changes": [
                {"resource": c.resource, "attribute": c.attribute, "before": c.before, "after": c.after}
                for c in self.changes
            ],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Check:
    """The result of `verify()`: is the step's effect in place, according to real state?"""

    done: bool
    detail: str
    outputs: Mapping[str, Any] = field(default_factory=dict)
    live: tuple[str, ...] = ()
    """For a containment action: each thing it should have taken away that is still live
    (`aws.iam_user:bob access key AKIA… is Active`), one line each."""


@dataclass(frozen=True)
class EvidenceItem:
    """An evidence file recorded in the journal for the current case."""

    name: str
    sha256: str
    size: int
    step: str


class EvidenceSink(ABC):
    """Where an action stores evidence: writes the blob and journals its record."""

    @abstractmethod
    def store(
        self,
        name: str,
        chunks: Iterable[bytes],
        *,
        source: str,
        method: str,
        sensitive: bool = False,
    ) -> EvidenceItem:
        """Stream `chunks` into the case as evidence called `name`."""

    @abstractmethod
    def recorded(self, name: str) -> EvidenceItem | None:
        """The evidence item `name` already recorded by this step, if any (for resume)."""

    @abstractmethod
    def unavailable(self, name: str, reason: str) -> None:
        """Record that a planned artifact could not be acquired, and why."""

    @abstractmethod
    def recorded_unavailable(self, name: str) -> str | None:
        """The reason recorded earlier by this step for artifact `name` being unavailable."""

    @abstractmethod
    def derived(self, name: str, path: Path) -> EvidenceItem:
        """Hash a file this step wrote into the case (not evidence) and journal it as `derived.added`."""


@dataclass
class StepContext:
    """Everything an action may use while it runs one step."""

    case_id: str
    run_id: str
    step_id: str
    agent: Agent
    world: WorldAccess
    workspace: Path
    """The workspace root (for `playbooks/ansible/`, log files named in the inventory)."""
    evidence: EvidenceSink | None
    output: Callable[[str], None]
    follow_up: Callable[[str, str, str], None]
    """Record something that could not be done automatically: (what, owner, why)."""
    case_dir: Path | None = None
    dry_run: bool = False
    prior: Mapping[str, Any] = field(default_factory=dict)
    """State recorded before the first attempt of this step (from its first intent record)."""

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and resumes of this step in this case."""
        return f"{self.case_id}:{self.step_id}"

    def containers(self) -> ContainerRuntime:
        """The runtime that holds the agent's container."""
        return self.world.containers()

    def credentials(self) -> CloudCredentials:
        """The cloud that holds the agent's credentials."""
        return self.world.credentials()

    def hosts(self) -> HostAutomation:
        """Automation for the agent's hosts."""
        return self.world.hosts()

    def http(self) -> HttpCalls:
        """HTTP calls to provider APIs."""
        return self.world.http()


class Action(ABC, Generic[P]):
    """A verb playbooks can name."""

    name: ClassVar[str]
    """The verb, e.g. `container.pause`."""
    summary: ClassVar[str]
    """One line for `ir playbook schema` and the docs."""
    Params: ClassVar[type[ActionParams]]
    """Parameter model for the step's `with:`."""
    mutates: ClassVar[bool] = True
    """Changes the world: an intent record is journalled before it runs."""
    destructive: ClassVar[bool] = False
    """Loses state (stop, kill, delete): refused until an evidence step has succeeded."""
    captures_evidence: ClassVar[bool] = False
    """Collects evidence; satisfies the precondition of destructive steps of the same domain."""
    domain: ClassVar[str] = ""
    """What the action acts on (`container`, `credentials`, `hosts`): a destructive action needs
    an evidence action of its own domain before it."""
    idempotent: ClassVar[bool] = True
    """Running it twice has the effect of running it once."""
    inverse: ClassVar[str | None] = None
    """The action that releases this one's effect, where one exists."""
    isolates: ClassVar[bool] = False
    """Cuts the agent off (its container's networks): live connections and the network state the
    evidence capture would record are gone, even though it can be put back. A tabletop exercise's
    `order … then: [destructive]` counts it with the destructive ones."""
    releases: ClassVar[bool] = False
    """Undoes containment (unpause, reconnect, lift a deny): refused by the engine unless the
    incident case holds an approved `reenable` decision."""
    contains: ClassVar[bool] = False
    """Takes something away from the agent (keys, sessions, permissions): at the end of a run,
    each such step (succeeded or not) is checked with `verify()`, and what its
    `Check.live` names is reported as still live; the run is not called succeeded while it is."""
    discovers: ClassVar[bool] = False
    """Reads which principals later containment steps act on (what the agent minted): the
    end-of-run check reads again through `verify()` (its `outputs`) to learn what those steps
    should have contained by now."""

    def prior(self, ctx: StepContext, params: P) -> Mapping[str, Any]:
        """State to record in the intent before the change, so it can be undone (default none)."""
        return {}

    @abstractmethod
    def plan(self, ctx: StepContext, params: P) -> Plan:
        """What execute would change, from real state; makes no mutating call."""

    @abstractmethod
    def execute(self, ctx: StepContext, params: P) -> Mapping[str, Any]:
        """Do it; returns the step's outputs (JSON-ready)."""

    @abstractmethod
    def verify(self, ctx: StepContext, params: P) -> Check:
        """Read real state: is the effect of this step in place?"""


class Registry:
    """The actions known to the engine, by name."""

    def __init__(self, actions: Iterable[Action[Any]] = ()) -> None:
        self._actions: dict[str, Action[Any]] = {}
        for action in actions:
            self.add(action)

    def add(self, action: Action[Any]) -> None:
        """Register an action under its name."""
        if action.name in self._actions:
            raise ValueError(f"action {action.name} registered twice")
        self._actions[action.name] = action

    def get(self, name: str) -> Action[Any] | None:
        """The action called `name`, or None."""
        return self._actions.get(name)

    def names(self) -> list[str]:
        """Every registered verb, sorted."""
        return sorted(self._actions)

    def __iter__(self) -> Any:
        return iter(self._actions[name] for name in self.names())

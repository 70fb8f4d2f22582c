"""The base of every record payload: frozen, extra fields kept, and readable as the mapping it was."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel, Mapping[str, Any]):
    """A record's `data`, validated; unknown kinds parse to this base (extra fields kept)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    def _written(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)

    def __getitem__(self, key: str) -> Any:
        return self._written()[key]

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        # keys, as a mapping iterates (pydantic's own yields pairs); `dict(payload)` is the data as written
        return iter(self._written())

    def __len__(self) -> int:
        return len(self._written())


class StepPayload(Payload):
    """A payload about one step."""

    step: str
    """The step's id in the pinned playbook."""

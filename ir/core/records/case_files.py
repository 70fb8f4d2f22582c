"""What a case folder holds besides the journal: evidence, derived files, and the journal's own repairs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ir.core.records.base import Payload, StepPayload


class EvidenceAdded(StepPayload):
    """An evidence file was stored (content-addressed, read-only)."""

    name: str
    """The artifact's name (`logs.txt`, `inspect.json`…)."""
    sha256: str
    """Its content hash (its path under `evidence/sha256/`)."""
    size: int
    """Its size in bytes."""
    source: str = ""
    """What it was read from."""
    method: str = ""
    """How it was acquired."""
    sensitive: bool = False
    """Whether it may hold secrets (exports treat it with care)."""


class EvidenceUnavailable(StepPayload):
    """An artifact could not be acquired."""

    name: str
    """The artifact's name."""
    reason: str = ""
    """Why not."""


class RemovedPart(BaseModel):
    """One leftover part of an interrupted capture."""

    model_config = ConfigDict(frozen=True, extra="allow")

    name: str
    """Its file name."""
    size: int = 0
    """Its size in bytes."""


class EvidencePartsRemoved(Payload):
    """Leftover `.tmp` parts of an interrupted capture were removed on resume."""

    files: list[RemovedPart] = Field(default_factory=list)
    """The parts removed."""


class DerivedAdded(Payload):
    """A derived case file (timeline, report, ansible artifacts) was hashed into the journal."""

    step: str | None = None
    """The step that wrote it, if any."""
    name: str
    """What it is."""
    path: str
    """Its path relative to the case folder."""
    sha256: str
    """Its content hash."""
    size: int = 0
    """Its size in bytes."""


class JournalTornTail(Payload):
    """A torn last line (a crash mid-write) was set aside when the case was reopened."""

    bytes: int = 0
    """How many bytes were set aside."""
    sha256: str = ""
    """Their hash."""
    saved_as: str = ""
    """The side file holding them."""

"""What a case contributes to a timeline: its captured container logs, and the agent it was run for."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ir.core.inventory import Agent


def case_inputs(case_dir: Path) -> tuple[list[Path], Agent | None]:
    """The case's `logs.txt` evidence files, and the agent recorded when the run started."""
    # imported here: the case and inventory models take a fifth of a second to load, which a
    # timeline of files alone (no --case) never needs
    from pydantic import ValidationError

    from ir.core.case import load_state
    from ir.core.errors import CaseError
    from ir.core.evidence import blob_path
    from ir.core.inventory import Agent
    from ir.core.journal import JOURNAL_FILE

    state = load_state(case_dir)
    logs = [case_dir / blob_path(item.sha256) for item in state.evidence if item.name == "logs.txt"]
    try:
        agent = Agent.model_validate(state.run.agent) if state.run and state.run.agent else None
    except ValidationError as exc:  # the journal chains, but its run.started names no valid agent
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "agent"
        raise CaseError(
            f"{case_dir / JOURNAL_FILE}: run.started records an agent that is not valid ({where}: "
            f"{exc.errors()[0]['msg']})"
        ) from None
    return logs, agent

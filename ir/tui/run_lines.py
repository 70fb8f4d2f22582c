"""What a journal record or engine event means on the run screen: a step's new status, a log line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATUS_OF = {"step.started": "running", "step.skipped": "skipped", "approval.waiting": "awaiting_approval"}


def describe(kind: str, data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(the step's new status or None, the line for the output log or None) for one event."""
    step = data.get("step")
    status = str(data["status"]) if kind == "step.result" else STATUS_OF.get(kind)
    if kind == "step.result":
        line = f"{step}: {data['status']}" + (f" — {data['error']}" if data.get("error") else "")
    elif kind == "step.started":
        line = f"→ {step}: {data['action']}"
    elif kind == "step.skipped":
        who = f" by {data['by']}" if data.get("by") else ""
        line = f"{step}: skipped{who} — {data.get('reason')}"
    elif kind == "approval.waiting":
        line = f"{step}: waits for approval of {data['action']}"
    elif kind == "approval.granted":
        line = f"{step}: approved by {data['by']}"
    elif kind in ("step.output", "evidence.unavailable", "followup"):
        line = "    " + str(data.get("line") or data.get("reason") or data.get("what"))
    elif kind == "run.started":
        line = f"case {data['case']}"
    elif kind == "note":
        line = f"note by {data.get('by')}" + (f" on {step}" if step else "") + f": {data.get('text')}"
    elif kind == "run.aborted":
        line = f"run aborted by {data.get('by')}: {data.get('reason')}"
    elif kind == "decision":
        line = f"decision {data.get('decision')} by {data.get('by')}: {data.get('reason')}"
    else:
        line = None
    return (status if step else None), line

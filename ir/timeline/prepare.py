"""Per-event work that needs no other event, done where the event is parsed (in a worker).

`prepare(e)` leaves two private keys on the event, which the parent takes off before the event
leaves the pipeline: the detectors' findings in its own text (`detect.tool_facts`) and whether
any of its texts might hold a secret (the redaction pre-check). Both are worked out again in the
parent when the merge changes the event (a tool call's arguments or result filled in from another
source: merge.merged drops the facts and sets the pre-check).
"""

from __future__ import annotations

from ir.core.redaction import might_hold_secret
from ir.timeline.detect import FACTS, tool_facts
from ir.timeline.model import Event, dumps

SECRET = "_secret"
"""True when one of the event's texts might hold a secret (redact it), False when none can."""
TOOL_KINDS = frozenset({"tool_call", "tool_result", "tool_list"})


def texts(e: Event) -> tuple[str, str, str]:
    """The texts redaction looks at: the message, the tool as JSON, the target."""
    tool = e.get("tool")
    target = e.get("target")
    return e["message"], dumps(tool).decode() if tool else "", target if isinstance(target, str) else ""


def might_hold(e: Event) -> bool:
    """The redaction pre-check over all of an event's texts at once (`\\0` joins them: no hint and
    no registered value holds one)."""
    return might_hold_secret("\0".join(texts(e)))


def prepare(e: Event) -> None:
    """Work out, once, what the analyser and redaction will need from this event alone."""
    if e["kind"] in TOOL_KINDS:
        e[FACTS] = tool_facts(e)
    e[SECRET] = might_hold(e)

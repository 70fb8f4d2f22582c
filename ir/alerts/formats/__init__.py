"""Normalise: a raw alert body, in one of the formats agent-ir reads, into frozen `Alert`s.

    decode(raw)                     bytes -> JSON value (strict UTF-8, depth and size limits)
    detect(body)                    which of FORMATS a decoded body is (for `ir contain` without --source)
    normalise(fmt, body, source=…)  -> list[Alert], one per alert of a group or finding of an event

One module per format: `alertmanager` (and Grafana), `eventbridge` (GuardDuty, with `securityhub`
for ASFF and OCSF), `falco`, `cloudevents` (and the Agent Governance Toolkit). Any body that is
not a valid alert of its format raises `AlertFormatError` naming the place
(`alerts[1].labels: expected an object, got a list`); no JSON value raises anything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ir.alerts.formats import alertmanager, cloudevents, eventbridge, falco
from ir.alerts.formats.reader import kind_of
from ir.alerts.model import FORMATS, Alert, AlertFormatError

__all__ = ["FORMATS", "MAX_DEPTH", "decode", "detect", "normalise"]

MAX_DEPTH = 64
"""Deepest nesting of objects and lists a body may have."""

MAX_INT_DIGITS = 128
"""Longest integer literal accepted (Python refuses past 4,300 digits; nothing real needs 128)."""

_READERS: dict[str, Callable[..., list[Alert]]] = {
    "alertmanager": alertmanager.normalise,
    "eventbridge": eventbridge.normalise,
    "falco": falco.normalise,
    "cloudevents": cloudevents.normalise,
}


class _BadNumber(ValueError):
    pass


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _BadNumber(f"an integer of {len(text.lstrip('-'))} digits (more than {MAX_INT_DIGITS})")
    return int(text)


def _refuse_constant(name: str) -> object:
    raise _BadNumber(f"{name} is not JSON")


def decode(raw: bytes) -> object:
    """The JSON value of a body: strict UTF-8, nested at most `MAX_DEPTH` deep, no NaN/Infinity."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AlertFormatError(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise AlertFormatError(f"line {exc.lineno} col {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise AlertFormatError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except _BadNumber as exc:
        raise AlertFormatError(f"invalid JSON number: {exc}") from None
    _check(value)
    return value


def _check(value: object) -> None:
    """Refuse nesting deeper than `MAX_DEPTH` and strings UTF-8 cannot hold, without recursion."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _encodable(item)
            continue
        if isinstance(item, dict):
            for key in item:
                _encodable(key)
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > MAX_DEPTH:
            raise AlertFormatError(f"JSON nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def _encodable(text: str) -> None:
    # json.loads turns "\ud800" into a lone surrogate that no UTF-8 journal or database can store.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AlertFormatError(f"a string holds an unpaired surrogate \\u{ord(text[exc.start]):04x}") from None


def detect(body: object) -> str:
    """Which of `FORMATS` a decoded body is; `AlertFormatError` saying why when none fits."""
    if cloudevents.looks_like(body):
        return "cloudevents"
    if not isinstance(body, dict):
        raise AlertFormatError(f"body: expected a JSON object, got {kind_of(body)}")
    if alertmanager.looks_like(body):
        return "alertmanager"
    if falco.looks_like(body):
        return "falco"
    if eventbridge.looks_like(body):
        return "eventbridge"
    raise AlertFormatError(
        "body: not an alert format agent-ir reads: no `alerts` list (Alertmanager), `detail-type` or finding "
        "(EventBridge), `rule` and `priority` (Falco), or `specversion` / `event_type` (CloudEvents, AGT)"
    )


def normalise(fmt: str, body: object, *, source: str) -> list[Alert]:
    """The `Alert`s in a decoded body of format `fmt`, each tagged with the source it arrived on."""
    reader = _READERS.get(fmt)
    if reader is None:
        raise AlertFormatError(f"unknown alert format {fmt!r} (one of: {', '.join(FORMATS)})")
    try:
        return reader(body, source=source)
    except RecursionError:
        raise AlertFormatError(f"JSON nested deeper than {MAX_DEPTH} levels") from None

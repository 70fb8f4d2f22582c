"""Playbook parameters: their declaration (type and bounds) and the check of a given value against it.

A value from `--param K=V` (text) is converted to the declared type, then held to the declared
bounds: `min`/`max` for numbers, `choices` for any scalar type (each item of a list), `pattern`
for strings (each item of a list). A default is held to the same rules when the playbook loads,
so a playbook can never start with a value it declares out of bounds.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

ParamType = Literal["string", "boolean", "integer", "number", "list"]
Scalar = str | bool | int | float

SHOWN_CHARS = 40
"""An error shows at most this much of a value (a pasted 5000-digit value is not echoed back)."""
MAX_DIGITS = 100
"""Longest integer or number text accepted from `--param`."""
_INTEGER = re.compile(r"-?[0-9]+")
"""ASCII digits only: no `１`, no `1_0`, no surrounding spaces (int() takes all three)."""
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def shown(value: Any) -> str:
    """`value` as an error shows it: its repr, cut to about SHOWN_CHARS characters."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[: SHOWN_CHARS - 1]}…"


class Param(BaseModel):
    """A parameter the responder (or the alert) supplies when starting a run."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    type: ParamType = "string"
    """Value type; `--param K=V` text is converted to it (a list from comma-separated text)."""
    default: str | bool | int | float | list[str] | None = None
    """Value when none is given; it must meet the bounds below."""
    required: bool = False
    """Refuse to start without a value."""
    description: str = ""
    """What the parameter means, shown in `ir playbook show`."""
    min_: int | float | None = Field(default=None, alias="min")
    """Smallest value allowed (integer and number params)."""
    max_: int | float | None = Field(default=None, alias="max")
    """Largest value allowed (integer and number params)."""
    choices: tuple[Scalar, ...] | None = None
    """The only values allowed (for a list, the only items allowed)."""
    pattern: str | None = None
    """Regular expression a string (or each list item) must match as a whole."""

    @model_validator(mode="after")
    def _bounds_fit_the_type(self) -> Self:
        numeric = self.type in ("integer", "number")
        if (self.min_ is not None or self.max_ is not None) and not numeric:
            raise ValueError(f"min/max apply to integer and number params, not {self.type}")
        if self.min_ is not None and self.max_ is not None and self.min_ > self.max_:
            raise ValueError(f"min {self.min_} is greater than max {self.max_}")
        if self.pattern is not None:
            if self.type not in ("string", "list"):
                raise ValueError(f"pattern applies to string and list params, not {self.type}")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern {self.pattern!r} is not a regular expression: {exc}") from None
        if self.choices is not None:
            if self.type == "boolean":
                raise ValueError("choices do not apply to boolean params")
            for choice in self.choices:
                _check_type(self, choice, item=self.type == "list")
        if self.default is not None:
            check_value(self, self.default, what="default")
        return self


def _check_type(spec: Param, value: Any, *, item: bool = False) -> None:
    kind = "string" if item else spec.type
    ok = {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]
    if not ok:
        wanted = {"list": "a list of strings", "integer": "an integer"}.get(kind, f"a {kind}")
        raise ValueError(f"{shown(value)} is not {wanted}")
    if kind == "number" and not math.isfinite(value):
        raise ValueError(f"{shown(value)} is not a finite number")


def _check_scalar(spec: Param, value: Any) -> None:
    if spec.min_ is not None and value < spec.min_:
        raise ValueError(f"{shown(value)} is less than the minimum {spec.min_}")
    if spec.max_ is not None and value > spec.max_:
        raise ValueError(f"{shown(value)} is more than the maximum {spec.max_}")
    if spec.choices is not None and value not in spec.choices:
        raise ValueError(f"{shown(value)} is not one of {', '.join(repr(c) for c in spec.choices)}")
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        raise ValueError(f"{shown(value)} does not match the pattern {spec.pattern!r}")


def check_value(spec: Param, value: Any, *, what: str = "value") -> None:
    """Raise ValueError (`default 'x' is ...`) unless `value` has the declared type and meets the bounds."""
    try:
        _check_type(spec, value)
        for item in value if spec.type == "list" else [value]:
            _check_scalar(spec, item)
    except ValueError as exc:
        raise ValueError(f"{what} {exc}") from None


def coerce_param(name: str, spec: Param, raw: Any) -> Any:
    """Convert a `--param` value to its declared type; ValueError says what is wrong."""
    if not isinstance(raw, str):
        return raw
    if spec.type == "list":
        return [item.strip() for item in raw.split(",") if item.strip()]
    if spec.type == "boolean":
        lowered = raw.strip().lower()
        if lowered in {"true", "yes", "1", "on"}:
            return True
        if lowered in {"false", "no", "0", "off"}:
            return False
        raise ValueError(f"param {name}: {shown(raw)} is not a boolean (true/false)")
    if spec.type in ("integer", "number"):
        wanted = "an integer" if spec.type == "integer" else "a number"
        if len(raw) > MAX_DIGITS:
            raise ValueError(f"param {name}: {shown(raw)} is not {wanted}: longer than {MAX_DIGITS} characters")
        if spec.type == "number" and raw.strip().lstrip("+-").lower() in ("nan", "inf", "infinity"):
            raise ValueError(f"param {name}: {shown(raw)} is not a finite number")
        if not (_INTEGER if spec.type == "integer" else _NUMBER).fullmatch(raw):
            raise ValueError(f"param {name}: {shown(raw)} is not {wanted}")
        number = int(raw) if spec.type == "integer" else float(raw)
        if not math.isfinite(number):  # 1e999
            raise ValueError(f"param {name}: {shown(raw)} is not a finite number")
        return number
    return raw

"""Turn pydantic validation errors into `file:line:col: message` lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ir.core.errors import InputError
from ir.core.yamlsafe import Loc, Located

M = TypeVar("M", bound=BaseModel)


def describe(err: Mapping[str, Any]) -> str:
    """One readable sentence for one pydantic error entry."""
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field missing"
    return f"{loc}: {msg}" if loc else msg


def error_lines(exc: ValidationError, located: Located, prefix: Loc = ()) -> list[str]:
    """Every error of `exc` as `file:line:col: field: message`, in document order."""
    lines = []
    errors = exc.errors()
    locs = [tuple(p for p in err["loc"] if not str(p).startswith("function-")) for err in errors]
    for err, loc in zip(errors, locs, strict=True):
        if any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs):
            continue  # a consequence of a deeper error that is reported itself
        lines.append(f"{located.where((*prefix, *loc))}: {describe(err)}")
    return lines


def validate(model: type[M], located: Located, error: type[InputError] = InputError, **context: Any) -> M:
    """Validate `located.data` as `model`; raise `error` with the first located message."""
    try:
        return model.model_validate(located.data, context=context or None)
    except ValidationError as exc:
        lines = error_lines(exc, located)
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        raise error(lines[0] + more) from None

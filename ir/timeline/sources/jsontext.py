"""JSON as the timeline's sources hold it: big integers exact, orjson's reasons for what is not
JSON, lone surrogate escapes (valid JSON that msgspec and orjson refuse) read all the same."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
import orjson

_DECODE = msgspec.json.Decoder()


def loads(raw: bytes | str) -> Any:
    """A JSON document with big integers kept exact (msgspec); when it is not valid JSON, orjson's
    error is raised (ValueError), whose first words have always been the bad-record reason.

    A lone surrogate escape (`"\\ud83d"`: Node writes them when it cuts a string between the two
    halves of an emoji) is valid JSON both refuse: such a document is read with the standard
    library and each lone surrogate becomes U+FFFD."""
    try:
        return _DECODE.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):  # orjson's reasons (msgspec: invalid UTF-8 raises)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            if _SURROGATE_ESCAPE.search(raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")):
                found = _with_lone_surrogates(raw)
                if found is not _REFUSED:
                    return found
            raise
    except RecursionError:
        raise ValueError("too deeply nested") from None


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_REFUSED: Any = object()


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: the standard library reads them, JSON has none


def _with_lone_surrogates(raw: bytes | str) -> Any:
    """`raw` read by the standard library (which keeps lone surrogates), each replaced by U+FFFD;
    `_REFUSED` when it is not JSON after all."""
    try:
        return _mend(json.loads(raw, parse_constant=_refuse), 0)
    except (ValueError, RecursionError):
        return _REFUSED


def _mend(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if depth > 10_000:
        raise RecursionError
    if isinstance(value, dict):
        return {_mend(k, depth): _mend(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_mend(v, depth + 1) for v in value]
    return value

"""Reading a decoded JSON body with its place, so every shape error names where it is.

`Fields` wraps one JSON object and the path that led to it (`alerts[1].labels`). Its getters
check types and raise `AlertFormatError` with that path; absent and `null` are the same thing.
A `loose` reader matches keys ignoring case, `-` and `_`: EventBridge delivers GuardDuty's
camelCase, `aws guardduty get-findings` prints PascalCase, OCSF is snake_case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from ir.alerts.model import AlertFormatError

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def shown(value: object, limit: int = 60) -> str:
    """A value quoted for an error message: JSON-escaped (no raw control characters), cut short."""
    text = json.dumps(value, ensure_ascii=True, default=repr) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind_of(value: object) -> str:
    """The JSON name of a value's type, for `expected an object, got a list`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def join(place: str, key: str | int) -> str:
    """The place of `key` inside `place`: `alerts[1]`, `alerts[1].labels`, `output_fields["container.id"]`."""
    if isinstance(key, int):
        return f"{place}[{key}]"
    part = key if _PLAIN_KEY.match(key) else json.dumps(key)
    if not place:
        return part
    return f"{place}.{part}" if _PLAIN_KEY.match(key) else f"{place}[{part}]"


def _norm(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "")


def scalar_text(value: object) -> str | None:
    """A JSON scalar as text (`true`, `8`, `5.5`), or None for null, lists and objects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return None


class Fields:
    """One JSON object of a body and its place in it; getters raise `AlertFormatError` naming the place."""

    def __init__(self, value: object, place: str, *, loose: bool = False) -> None:
        if not isinstance(value, dict):
            raise AlertFormatError(f"{place or 'body'}: expected an object, got {kind_of(value)}")
        self.data: dict[str, object] = value
        self.place = place
        self.loose = loose
        self._index: dict[str, str] | None = None

    def _key(self, key: str) -> str | None:
        if key in self.data:
            return key
        if not self.loose:
            return None
        if self._index is None:
            self._index = {}
            for k in self.data:
                self._index.setdefault(_norm(k), k)
        return self._index.get(_norm(key))

    def has(self, key: str) -> bool:
        """Whether `key` is present and not null."""
        return self.get(key) is not None

    def get(self, key: str) -> object:
        """The raw value at `key` (None when absent or null)."""
        real = self._key(key)
        return None if real is None else self.data[real]

    def at(self, key: str) -> str:
        """The place of `key`, spelled as the body spells it."""
        return join(self.place, self._key(key) or key)

    def obj(self, key: str, *, required: bool = False) -> Fields | None:
        """The object at `key`; None when absent unless required."""
        value = self.get(key)
        if value is None:
            if required:
                raise AlertFormatError(f"{self.at(key)}: required, missing")
            return None
        return Fields(value, self.at(key), loose=self.loose)

    def items(self, key: str) -> list[object]:
        """The list at `key` (empty when absent)."""
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise AlertFormatError(f"{self.at(key)}: expected a list, got {kind_of(value)}")
        return value

    def objs(self, key: str, *, required: bool = False) -> list[Fields]:
        """The list of objects at `key`, each with its place (`alerts[3]`)."""
        if required and self.get(key) is None:
            raise AlertFormatError(f"{self.at(key)}: required, missing")
        place = self.at(key)
        return [Fields(item, join(place, i), loose=self.loose) for i, item in enumerate(self.items(key))]

    def text(self, key: str, *, required: bool = False) -> str:
        """The string at `key` ("" when absent); a number or boolean is not accepted as text."""
        value = self.get(key)
        if value is None:
            if required:
                raise AlertFormatError(f"{self.at(key)}: required, missing")
            return ""
        if not isinstance(value, str):
            raise AlertFormatError(f"{self.at(key)}: expected a string, got {kind_of(value)}")
        if required and not value.strip():
            raise AlertFormatError(f"{self.at(key)}: required, empty")
        return value

    def loose_text(self, key: str) -> str:
        """The scalar at `key` as text, whatever its JSON type ("" for absent, lists and objects)."""
        return scalar_text(self.get(key)) or ""

    def number(self, key: str) -> float | None:
        """The number at `key`, or a string holding one (`"8"`); None when absent."""
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise AlertFormatError(f"{self.at(key)}: expected a number, got {kind_of(value)}")
        try:
            return float(value)
        except (ValueError, OverflowError):
            raise AlertFormatError(f"{self.at(key)}: expected a number, got {shown(value)}") from None

    def strings(self, key: str) -> list[str]:
        """The list of strings at `key` (empty when absent)."""
        place = self.at(key)
        out: list[str] = []
        for i, item in enumerate(self.items(key)):
            if not isinstance(item, str):
                raise AlertFormatError(f"{join(place, i)}: expected a string, got {kind_of(item)}")
            out.append(item)
        return out

    def string_map(self, key: str, *, required: bool = False) -> dict[str, str]:
        """The object at `key` whose values must all be strings (Alertmanager labels and annotations)."""
        sub = self.obj(key, required=required)
        if sub is None:
            return {}
        out: dict[str, str] = {}
        for k, v in sub.data.items():
            if not isinstance(v, str):
                raise AlertFormatError(f"{join(sub.place, k)}: expected a string, got {kind_of(v)}")
            out[k] = v
        return out

    def scalars(self) -> Iterator[tuple[str, str]]:
        """Every key whose value is a scalar, with the value as text (nested values are skipped)."""
        for k, v in self.data.items():
            text = scalar_text(v)
            if text is not None:
                yield k, text

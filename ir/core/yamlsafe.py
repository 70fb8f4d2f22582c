"""Strict YAML loading: no aliases, no duplicate keys, and a line:col for every value.

Playbooks and inventories are written by people and reviewed in git. YAML aliases make
"billion laughs" documents and hide what a step really does; duplicate keys silently drop
one of the values. Both are refused with the position of the offending node. So are control
characters (a NUL byte) and nesting deeper than `MAX_DEPTH`, checked while the document is
composed, before any Python object is built, so no document can exhaust the stack.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]

MAX_DOCUMENT_BYTES = 1_000_000
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted (playbooks need fewer than ten)."""
MAX_INT_DIGITS = 100
"""Longest integer literal accepted (a longer one is a mistake or an attack on `int()`)."""
_INT_TAG = "tag:yaml.org,2002:int"


@dataclass(frozen=True)
class Located:
    """A parsed YAML document with the source position of every mapping key and item."""

    data: Any
    path: str
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Loc) -> str:
        """`file:line:col` for the longest known prefix of `loc` (1-based line and column)."""
        for end in range(len(loc), -1, -1):
            mark = self.marks.get(tuple(loc[:end]))
            if mark is not None:
                return f"{self.path}:{mark[0]}:{mark[1]}"
        return f"{self.path}:1:1"


class YamlInputError(ValueError):
    """A YAML document that cannot be accepted; `str()` is `file:line:col: message`."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and nesting deeper than MAX_DEPTH."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(
                problem="YAML aliases are not allowed (write the value out)",
                problem_mark=event.start_mark,
            )
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if getattr(event, "anchor", None):
            raise yaml.MarkedYAMLError(
                problem="YAML anchors are not allowed (write the value out)",
                problem_mark=event.start_mark,
            )
        if not isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            return super().compose_node(parent, index)
        if self.depth >= MAX_DEPTH:
            mark: Any = event.start_mark
            raise yaml.MarkedYAMLError(
                problem=f"nested deeper than {MAX_DEPTH} levels (flatten the document)", problem_mark=mark
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _to_python(node: yaml.Node, loc: Loc, marks: dict[Loc, tuple[int, int]], src: str, ctor: _StrictLoader) -> Any:
    marks[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _error(src, key_node, "YAML merge keys (<<) are not allowed")
            if not isinstance(key_node, yaml.ScalarNode):
                raise _error(src, key_node, "mapping keys must be plain scalars")
            key = _construct(key_node, src, ctor)
            if key in out:
                raise _error(src, key_node, f"duplicate key {key!r}")
            out[key] = _to_python(value_node, (*loc, key), marks, src, ctor)
            marks[(*loc, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*loc, i), marks, src, ctor) for i, item in enumerate(node.value)]
    return _construct(node, src, ctor)


def _construct(node: yaml.Node, src: str, ctor: _StrictLoader) -> Any:
    """The Python value of a scalar node; a value YAML's constructors cannot build (a date with
    month 13, an integer too long) is an input error at the node, not a traceback."""
    text = str(node.value)
    if node.tag == _INT_TAG and len(text.lstrip("+-").replace("_", "")) > MAX_INT_DIGITS:
        raise _error(src, node, f"integer literal longer than {MAX_INT_DIGITS} digits (quote it to keep it as text)")
    try:
        return ctor.construct_object(node, deep=True)
    except (ValueError, TypeError, ArithmeticError) as exc:
        kind = node.tag.rsplit(":", 1)[-1]
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise _error(src, node, f"{shown!r} is not a valid {kind}: {exc} (quote it to keep it as text)") from None


def _error(src: str, node: yaml.Node, message: str) -> YamlInputError:
    return YamlInputError(f"{src}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: {message}")


def load_text(text: str, path: str) -> Located:
    """Parse one YAML document from `text`, naming `path` in errors."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise YamlInputError(f"{path}:1:1: file is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as exc:
        raise YamlInputError(_reader_problem(text, path, exc)) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(data=None, path=path, marks={})
        marks: dict[Loc, tuple[int, int]] = {}
        data = _to_python(node, (), marks, path, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = ", ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise YamlInputError(f"{path}:{line}:{col}: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlInputError(f"{path}:1:1: {exc}") from None
    finally:
        loader.dispose()
    return Located(data=data, path=path, marks=marks)


def _reader_problem(text: str, path: str, exc: yaml.reader.ReaderError) -> str:
    """`file:line:col: ...` for a character YAML does not accept (the reader gives an offset)."""
    position = exc.position
    line = text.count("\n", 0, position) + 1
    col = position - (text.rfind("\n", 0, position) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    kind = "control character" if unicodedata.category(chr(code)) == "Cc" else "character"
    advice = "remove it, or write it as an escape in a double-quoted string"
    return f"{path}:{line}:{col}: {kind} U+{code:04X} is not allowed in YAML ({advice})"


def load_file(path: Path) -> Located:
    """Read and parse a YAML file; unreadable or non-UTF-8 files are input errors."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise YamlInputError(f"{path}:1:1: file is larger than {MAX_DOCUMENT_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlInputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlInputError(f"{path}:{line}:1: not valid UTF-8") from None
    return load_text(text, str(path))

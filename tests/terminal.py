"""A tiny terminal screen for tests: applies what the progress reporter writes (text, `\\r`, `\\n`,
cursor up `ESC[nA`, erase down `ESC[J`) and rejects any other escape sequence, so a test can
assert what a person would see once the output has stopped."""

from __future__ import annotations

import re

_SEQUENCE = re.compile(r"\x1b\[(\d*)([A-Za-z])")


class Screen:
    """The visible lines after `feed`ing a terminal byte stream (decoded)."""

    def __init__(self) -> None:
        self.lines: list[str] = [""]
        self.row = 0
        self.col = 0

    def feed(self, text: str) -> Screen:
        """Apply `text`; returns self."""
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                match = _SEQUENCE.match(text, i)
                if match is None:
                    raise AssertionError(f"unexpected escape sequence at {text[i : i + 12]!r}")
                count, op = int(match.group(1) or 1), match.group(2)
                if op == "A":
                    self.row = max(0, self.row - count)
                elif op == "J":
                    self.lines[self.row] = self.lines[self.row][: self.col]
                    del self.lines[self.row + 1 :]
                else:
                    raise AssertionError(f"unexpected escape sequence {match.group()!r}")
                i = match.end()
                continue
            if ch == "\r":
                self.col = 0
            elif ch == "\n":  # as a terminal behind a tty with `onlcr` (the default) sees it: CR LF
                self.col = 0
                self.row += 1
                if self.row == len(self.lines):
                    self.lines.append("")
            else:
                line = self.lines[self.row].ljust(self.col)
                self.lines[self.row] = line[: self.col] + ch + line[self.col + 1 :]
                self.col += 1
            i += 1
        return self

    @property
    def text(self) -> str:
        """The screen's lines, trailing spaces and empty last lines dropped."""
        return "\n".join(line.rstrip() for line in self.lines).rstrip("\n")

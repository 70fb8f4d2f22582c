"""A tiny terminal screen for tests: applies what the progress reporter writes (text, `\\r`, `\\n`,
cursor up `ESC[nA`, erase down `ESC[J`) and rejects any other escape sequence, so a test can
assert what a person would see once the output has stopped."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

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


def ir_in_terminal(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the real `ir` with stdin, stdout and stderr on a 40×120 pseudo-terminal; (exit code, all
    it wrote, decoded)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    full_env = {**os.environ, "IR_USER": "tester", "TERM": "xterm-256color", **(env or {})}
    full_env.pop("IR_WORKSPACE", None)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "ir"), *args], cwd=cwd, env=full_env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode()

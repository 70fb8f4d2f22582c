"""Facilitator commands from consoles that joined an exercise, to the one that controls it.

Only one process writes an exercise journal (it holds the journal's lock for the whole exercise:
the controller, which ticks the clock and delivers injects). A console that joined from another
terminal asks it to act by dropping a command file into `exercises/<id>/commands/` — written
under a dot-name and renamed, so the controller never reads half a command. On each tick the
controller takes the files in name order (the name starts with the time in nanoseconds),
removes each before acting on it (a command is done at most once, even if the controller dies
then), and records what it did in the journal like its own keys do. A command it refuses (the
clock already paused, no inject left, the exercise over) leaves a reply beside it,
`commands/<name>.refused`, that the sender reads, shows and removes.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from ir.core.inventory import Frozen

QUEUE_DIR = "commands"
"""Under the exercise folder."""
REFUSED = ".refused"

Op = Literal["join", "pause", "resume", "advance", "fire_next", "mark", "note", "end"]


class Command(Frozen):
    """One facilitator command (what a key on the exercise panel asks for)."""

    op: Op
    """What to do."""
    by: str
    """Who asked (recorded as `by`)."""
    seconds: float | None = None
    """advance: how far."""
    expectation: str | None = None
    """mark: the manual expectation."""
    passed: bool | None = None
    """mark: passed or failed."""
    text: str = ""
    """note: the text; mark: the note; join: the role."""


class CommandQueue:
    """The `commands/` folder of one exercise (see the module docstring)."""

    def __init__(self, exercise_folder: Path) -> None:
        self.dir = exercise_folder / QUEUE_DIR

    def send(self, command: Command) -> str:
        """Drop a command for the controller; its name (to look for a refusal under)."""
        self.dir.mkdir(exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(3)}"
        temp = self.dir / f".{name}"
        temp.write_text(command.model_dump_json(), encoding="utf-8")
        os.replace(temp, self.dir / f"{name}.json")
        return name

    def take(self) -> list[tuple[str, Command | str]]:
        """Every command waiting, oldest first, each removed as it is read: (name, the command or
        why it could not be read)."""
        try:
            names = sorted(p.name for p in self.dir.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        except FileNotFoundError:
            return []
        taken: list[tuple[str, Command | str]] = []
        for file in names:
            path = self.dir / file
            try:
                text = path.read_text(encoding="utf-8")
                path.unlink()
            except OSError:
                continue  # another controller took it (a take-over racing a dying one)
            try:
                taken.append((path.stem, Command.model_validate_json(text)))
            except ValidationError as exc:
                taken.append((path.stem, f"not a facilitator command: {exc.errors()[0]['msg']}"))
        return taken

    def refuse(self, name: str, why: str) -> None:
        """Tell the sender why its command was not done."""
        self.dir.mkdir(exist_ok=True)
        temp = self.dir / f".{name}{REFUSED}"
        temp.write_text(why, encoding="utf-8")
        os.replace(temp, self.dir / f"{name}{REFUSED}")

    def waiting(self, name: str) -> bool:
        """Whether the controller has not taken the command yet."""
        return (self.dir / f"{name}.json").exists()

    def refusal(self, name: str) -> str | None:
        """Why the controller refused the command `name` (removed once read); None when it did not."""
        path = self.dir / f"{name}{REFUSED}"
        try:
            why = path.read_text(encoding="utf-8")
            path.unlink()
        except OSError:
            return None
        return why

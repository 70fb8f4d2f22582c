"""The exercise banner: a bar on every screen of a console whose workspace is an exercise's sandbox.

`EXERCISE EX-… — scenario title — not production`, in a colour no real screen uses, so nobody
mistakes a rehearsal for an incident (or the other way round). The app mounts it on each screen as
the screen appears (`mount_banner`); a workspace that is not an exercise never gets one.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from rich.text import Text
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Static

from ir.core.text import neutralise
from ir.core.workspace import Workspace

SCENARIO_FILE = "scenario.yaml"
"""Beside the sandbox workspace, in the exercise folder: where the banner reads the title."""


def banner_text(workspace: Workspace) -> str | None:
    """The banner's line for an exercise's sandbox workspace; None for any other workspace."""
    exercise = workspace.settings.exercise
    if exercise is None:
        return None
    title = exercise.scenario
    try:
        data = yaml.safe_load((Path(workspace.root).parent / SCENARIO_FILE).read_text(encoding="utf-8"))
        title = str(data.get("title") or title) if isinstance(data, dict) else title
    except (OSError, yaml.YAMLError):
        pass  # the id is enough to say what this is
    return neutralise(f"EXERCISE {exercise.id} — {title} — not production")


class ExerciseBanner(Static):
    """One bold line across the top, in the exercise colour."""

    DEFAULT_CSS = """
    ExerciseBanner {
        height: auto;
        width: 100%;
        padding: 0 1;
        background: #8f00b3;
        color: #ffffff;
        text-style: bold;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, line: str) -> None:
        super().__init__(Text(line), id="exercise-banner")
        self.line = line


def mount_banner(screen: Screen[object], workspace: Workspace) -> None:
    """Put the banner at the top of `screen` (under its header), once; modals show the one beneath."""
    line = banner_text(workspace)
    if line is None or isinstance(screen, ModalScreen) or not screen.is_mounted:
        return
    if screen.query(ExerciseBanner):
        return
    headers = screen.query(Header)
    if headers:
        screen.mount(ExerciseBanner(line), after=headers.first())
    elif screen.children:
        screen.mount(ExerciseBanner(line), before=screen.children[0])
    else:
        screen.mount(ExerciseBanner(line))

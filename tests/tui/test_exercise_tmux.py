"""Two real terminals under tmux: `ir tabletop run` opens the console on a new exercise, `ir tabletop
join` opens a second one on it; a note typed in the second shows up in the first; the first quits
leaving the exercise open, and the second takes it over and carries on."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ir.tabletop.sandbox import Sandbox
from tests.conftest import make_workspace, missing
from tests.tui.exercise_consoles import BANNER, DRILL, EXERCISE
from tests.tui.test_tmux_smoke import keys, wait_for


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """(a workspace, the tmux sessions opened in it — killed afterwards)."""
    if shutil.which("tmux") is None:
        missing("tmux", "not installed (apt-get install tmux)")
    ws = make_workspace(tmp_path / "ws")
    sessions: list[str] = []
    yield ws, sessions
    for name in sessions:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False, capture_output=True)


def open_terminal(ws: Path, sessions: list[str], name: str, who: str, *args: str) -> str:
    """`ir ARGS` as `who` in a new 130×40 tmux session in `ws`; the session's name."""
    session = f"{name}-{ws.parent.name}"[:40]
    ir = Path(sys.executable).parent / "ir"
    ours = " ".join(f"{k}={shlex.quote(os.environ.get(k, ''))}" for k in ("PYTHONPATH", "IR_KEYS_DIR"))
    env = f"{ours} IR_USER={who} TERM=xterm-256color"  # this test's, not the tmux server's
    command = f"cd {ws} && unset COLUMNS LINES IR_WORKSPACE; {env} {ir} {' '.join(args)}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "130", "-y", "40", command], check=True)
    sessions.append(session)
    return session


def test_two_terminals_one_exercise(terminals: tuple[Path, list[str]]) -> None:
    ws, sessions = terminals
    run = ("tabletop", "run", str(DRILL), "--clock", "manual", "--exercise-id", EXERCISE)
    first = open_terminal(ws, sessions, "ex-a", "fran", *run)
    shown = wait_for(first, BANNER, "this console drives the clock")
    assert "Pause/resume" in shown and "Clock  0:00 of 10:00 · clock manual" in shown
    second = open_terminal(ws, sessions, "ex-b", "dana", "tabletop", "join", EXERCISE, "--role", "approver")
    wait_for(second, BANNER, "dana (approver) · joined: another console drives the clock")
    wait_for(first, "dana joined as approver")
    keys(second, "n")
    wait_for(second, "Note for the exercise journal:")
    keys(second, "hello from the second terminal", "Enter")
    wait_for(first, "note by dana: hello from the second terminal")
    keys(first, "q")
    wait_for(first, "This console drives the exercise clock. Quit?")
    keys(first, "l")  # leave it open
    wait_for(second, "NO CONSOLE DRIVES THE CLOCK: press C to take over")
    keys(second, "C")
    wait_for(second, "dana (approver) · this console drives the clock")
    keys(second, "f")
    wait_for(second, "inject I1 delivered")
    keys(second, "E")
    wait_for(second, "End the exercise now?")
    keys(second, "y")
    wait_for(second, "ENDED: facilitator")
    records = Sandbox(ws / "exercises" / EXERCISE).records()
    assert [r.data["as"] for r in records if r.type == "participant.joined"] == ["fran", "dana", "dana"]
    assert [r.data["fired_by"] for r in records if r.type == "inject.delivered"] == ["dana"]
    assert records[-1].type in ("exercise.ended", "checkpoint")

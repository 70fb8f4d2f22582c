"""`ir` in a real terminal under tmux: start, see the agents, open the incidents, quit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import missing


def screen(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=False
    ).stdout


def wait_for(session: str, text: str, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    shown = ""
    while time.monotonic() < deadline:
        shown = screen(session)
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared on screen:\n{shown}")


def test_ir_in_tmux(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        missing("tmux", "not installed (apt-get install tmux)")
    ws = demo_workspace(tmp_path)
    ir = Path(sys.executable).parent / "ir"
    session = f"ir-smoke-{tmp_path.name}"[:40]
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "140",
            "-y",
            "40",
            f"cd {ws} && TERM=xterm-256color IR_USER=smoke {ir}; sleep 0.2",
        ],
        check=True,
    )
    try:
        shown = wait_for(session, "support-bot")
        assert "secops@example.com" in shown and "Incidents" in shown
        subprocess.run(["tmux", "send-keys", "-t", session, "c"], check=True)
        wait_for(session, "playbook")
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True, check=False)
            if alive.returncode != 0:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("ir did not quit on q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)

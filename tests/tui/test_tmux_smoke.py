"""`make run` in a real terminal under tmux: the console opens on the demo; start an incident,
see its plan, run it to the first gate, look at the incidents, quit. Without a terminal,
`make run` runs the same incident headless and verifies the case."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from ir.core.journal import read
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import REPO, missing


def screen(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=False
    ).stdout


def wait_for(session: str, *texts: str, seconds: float = 20) -> str:
    """The screen once every one of `texts` is on it (they may arrive in separate repaints)."""
    deadline = time.monotonic() + seconds
    shown = ""
    while time.monotonic() < deadline:
        shown = screen(session)
        if all(text in shown for text in texts):
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{texts!r} never all appeared on screen:\n{shown}")


def make_run(ws: Path) -> list[str]:
    """`make run` from the repository's Makefile, in `ws`, with this venv (never rebuilt here)."""
    if shutil.which("make") is None:
        missing("make", "not installed (apt-get install make)")
    venv_bin = Path(sys.executable).parent
    return ["make", "-s", "-C", str(ws), "-f", str(REPO / "Makefile"), f"BIN={venv_bin}", "-o", f"{venv_bin}/ir", "run"]


def keys(session: str, *names: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, *names], check=True)


def test_make_run_opens_the_console_in_a_real_terminal(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        missing("tmux", "not installed (apt-get install tmux)")
    ws = demo_workspace(tmp_path)
    command = " ".join(make_run(ws))
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
            f"cd {ws} && unset COLUMNS LINES; TERM=xterm-256color {command}; sleep 0.2",  # pytest sets 80x24
        ],
        check=True,
    )
    try:
        shown = wait_for(session, "support-bot")
        assert "secops@example.com" in shown and "Incidents" in shown and "Start incident" in shown
        keys(session, "Enter")
        wait_for(session, "with which playbook?")
        keys(session, "Enter")
        shown = wait_for(session, "status: running → paused")  # the dry-run plan of the first step
        assert "Freeze the agent's container" in shown
        keys(session, "r")
        # The status line and the step list repaint separately: wait for both.
        wait_for(session, "waits for approval: y to review it", "freeze  succeeded", "console  awaiting_approval")
        keys(session, "Escape")
        wait_for(session, "contained")  # back on the agents screen (Escape alone: ESC+c would read as Alt+c)
        keys(session, "c")
        shown = wait_for(session, "agent-compromise 1.2.1")  # the incidents screen lists the new case
        assert "awaiting_approval" in shown
        keys(session, "q")
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


def test_make_run_without_a_terminal_runs_the_demo_headless_and_verifies_it(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    done = subprocess.run(
        make_run(ws), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "journal records chain correctly" in done.stdout
    assert "first suspicious event: 2026-11-20T03:12:03" in done.stdout
    (case,) = (ws / "cases").iterdir()
    assert (case / "journal.jsonl").is_file()


def test_q_mid_run_asks_and_leaves_the_case_to_resume_in_a_real_terminal(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        missing("tmux", "not installed (apt-get install tmux)")
    ws = demo_workspace(tmp_path)
    release = tmp_path / "release"
    hold = f"IR_FAILPOINT=step.intent:isolate:1:pause IR_FAILPOINT_FILE={release}"  # the run holds inside a step
    command = " ".join(make_run(ws))
    session = f"ir-quit-{tmp_path.name}"[:40]
    shell = f"cd {ws} && unset COLUMNS LINES; {hold} TERM=xterm-256color {command}; echo ir-exited-$?; sleep 60"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "40", shell], check=True)
    try:
        wait_for(session, "support-bot")
        keys(session, "Enter")
        wait_for(session, "with which playbook?")
        keys(session, "Enter")
        wait_for(session, "status: running → paused")
        keys(session, "r")
        deadline = time.monotonic() + 30
        while not Path(f"{release}.paused").exists():
            assert time.monotonic() < deadline, "the run never reached isolate"
            time.sleep(0.1)
        (case,) = (ws / "cases").iterdir()
        keys(session, "q")
        wait_for(session, "A run is in progress. Quit anyway?", "is left interrupted", "`ir", case.name)
        keys(session, "y")
        release.touch()  # the engine goes on to its next record, and stops there
        shown = wait_for(session, "ir-exited-", seconds=30)
        said = f"case {case.name} is left interrupted: resume it with `ir resume {case.name}`"
        assert said in " ".join(shown.split())  # the terminal wraps it
        assert "Traceback" not in shown
        assert "Error 130" in shown  # make reports ir's exit code: interrupted, not ok
        assert [r.data["step"] for r in read(case / "journal.jsonl").records if r.type == "run.interrupted"] == [
            "isolate"
        ]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)

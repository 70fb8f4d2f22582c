"""`ir tabletop run` without a terminal stays headless; `ir tabletop join` refuses what it cannot do
with one line (a console needs a terminal; an unknown exercise or role)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO, ir_cmd, make_workspace

DRILL = REPO / "tests" / "fixtures" / "tabletop" / "key-leak-drill.yaml"
EXERCISE = "EX-key-leak-drill-20261120T031000"


def test_run_without_a_terminal_is_headless_and_join_needs_one(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    done = ir_cmd("tabletop", "run", str(DRILL), "--clock", "fast:600", "--exercise-id", EXERCISE, cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "exercise ended: time limit" in done.stdout  # no console: it printed its records and followed the clock
    joined = ir_cmd("tabletop", "join", EXERCISE, "--as", "dana", cwd=ws)
    assert joined.returncode == 2
    assert joined.stderr.strip() == "ir: error: ir tabletop join opens a console: it needs a terminal"
    bad_role = ir_cmd("tabletop", "join", EXERCISE, "--role", "ceo", cwd=ws)
    assert bad_role.returncode == 2 and "--role 'ceo': not a role of key-leak-drill" in bad_role.stderr
    missing = ir_cmd("tabletop", "join", "EX-nothing", cwd=ws)
    assert missing.returncode == 2 and "EX-nothing: no such exercise" in missing.stderr
    assert not (ws / "exercises" / EXERCISE / "workspace" / ".ir" / "keys" / "dana").exists()  # refused first


def test_every_option_and_exercise_key_is_documented() -> None:
    """`ir tabletop run` and `join`: every option in its section of docs/cli.md; every key of the
    exercise screen (and the app's key to it) in the console's key table."""
    from textual.binding import Binding

    from ir.cli.tabletop_join import join_cmd
    from ir.cli.tabletop_run import run_cmd
    from ir.tui.exercise_app import ExerciseApp
    from ir.tui.screens.exercise import ExerciseScreen

    text = (REPO / "docs" / "cli.md").read_text()
    for name, command in (("run", run_cmd), ("join", join_cmd)):
        section = text.split(f"## `ir tabletop {name} ", 1)[1].split("\n## ", 1)[0]
        flags = [max(p.opts, key=len) for p in command.params if p.opts and p.opts[0].startswith("-")]
        assert flags and [f for f in flags if f"`{f}" not in section] == [], name
    keys = [b.key for cls in (ExerciseScreen, ExerciseApp) for b in Binding.make_bindings(cls.BINDINGS)]
    assert [k for k in keys if f"| `{k}` |" not in text] == []

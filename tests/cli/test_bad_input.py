"""Hostile or broken input files: one plain line naming file:line:col, exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.core.params import Param, coerce_param
from ir.tui.screens.start import startable_playbooks
from tests.conftest import ir_cmd

NESTED = "".join("  " * i + f"k{i}:\n" for i in range(400)) + "  " * 400 + "v: 1\n"
HEADER = "schema: ir/playbook/v1\nid: broken\nversion: '1.0.0'\n"


def no_traceback(result: object) -> None:
    text = str(getattr(result, "stdout", "")) + str(getattr(result, "stderr", ""))
    assert "Traceback" not in text and "Error:" not in text.replace("ir: error:", ""), text


@pytest.mark.parametrize(
    ("body", "where", "what"),
    [
        (HEADER + "title: a NUL\x00 byte\nsteps: []\n", ":4:13: ", "control character U+0000 is not allowed"),
        (HEADER + "title: bell\x07\nsteps: []\n", ":4:12: ", "control character U+0007 is not allowed"),
        (HEADER + "title: deep\nx:\n" + NESTED, ":70:129: ", "nested deeper than 64 levels"),
        (HEADER + "title: deep\nsteps: " + "[" * 400 + "]" * 400 + "\n", ":5:71: ", "nested deeper than 64 levels"),
    ],
    ids=["nul", "bel", "block-nesting", "flow-nesting"],
)
def test_lint_and_run_name_the_place_of_a_reader_error(workspace: Path, body: str, where: str, what: str) -> None:
    bad = workspace / "bad.yaml"
    bad.write_text(body, encoding="utf-8")
    linted = ir_cmd("playbook", "lint", str(bad), cwd=workspace)
    assert linted.returncode == 2
    no_traceback(linted)
    assert linted.stderr.splitlines()[0].startswith(f"{bad}{where}{what}")
    ran = ir_cmd("run", str(bad), "--agent", "support-bot", cwd=workspace)
    assert ran.returncode == 2
    no_traceback(ran)
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"ir: error: {bad}{where}{what}")


@pytest.mark.parametrize("name", ["agents.yaml", "ir.yaml"])
@pytest.mark.parametrize("poison", ["nul", "nesting"])
def test_workspace_files_with_reader_errors_are_one_line(workspace: Path, name: str, poison: str) -> None:
    path = workspace / name
    text = path.read_text(encoding="utf-8")
    if poison == "nul":
        path.write_text(text + "extra: \x00\n", encoding="utf-8")
        expected = "control character U+0000 is not allowed"
    else:
        path.write_text(text + "extra:\n" + "".join("  " + line for line in NESTED.splitlines(keepends=True)))
        expected = "nested deeper than 64 levels"
    result = ir_cmd("agents", "list", cwd=workspace)
    assert result.returncode == 2
    no_traceback(result)
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"ir: error: {path}:") and expected in line


def bad_playbooks(workspace: Path) -> dict[str, str]:
    """Three broken files beside the shipped playbooks; returns file name -> what is wrong."""
    books = workspace / "playbooks"
    (books / "nul.yaml").write_text(HEADER + "title: x\x00\nsteps: []\n", encoding="utf-8")
    (books / "deep.yml").write_text(HEADER + "title: deep\nx:\n" + NESTED, encoding="utf-8")
    (books / "not-a-playbook.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    return {
        "deep.yml": ":70:129: nested deeper than 64 levels",
        "not-a-playbook.yaml": ":1:1: a playbook must be a YAML mapping",
        "nul.yaml": ":4:9: control character U+0000 is not allowed",
    }


def test_one_bad_file_does_not_hide_the_other_playbooks(workspace: Path) -> None:
    bad = bad_playbooks(workspace)
    listed = ir_cmd("playbook", "list", cwd=workspace)
    assert listed.returncode == 2
    no_traceback(listed)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["agent-compromise", "agent-reenable"]
    problems = listed.stderr.splitlines()
    assert len(problems) == 4 and problems[-1] == "ir: error: 3 playbook file(s) could not be loaded (see above)"
    for line, (name, what) in zip(problems, sorted(bad.items()), strict=False):
        assert line.startswith(f"{workspace / 'playbooks' / name}{what}"), line

    linted = ir_cmd("playbook", "lint", cwd=workspace)
    assert linted.returncode == 2
    no_traceback(linted)
    for name, what in bad.items():
        assert f"{workspace / 'playbooks' / name}{what}" in linted.stderr
    assert f"{workspace / 'playbooks' / 'agent-compromise.yaml'}: ok" in linted.stdout
    assert "3 problem(s) in 5 playbook(s)" in linted.stderr

    planned = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--dry-run", cwd=workspace)
    assert planned.returncode == 0, planned.stderr


def test_the_console_chooser_offers_the_good_playbooks_and_names_the_bad(workspace: Path) -> None:
    bad = bad_playbooks(workspace)
    books, problems = startable_playbooks(workspace / "playbooks")
    assert [book_id for book_id, _label in books] == ["agent-compromise"]
    assert len(problems) == 3
    for problem, (name, what) in zip(problems, sorted(bad.items()), strict=True):
        assert problem.startswith(f"{workspace / 'playbooks' / name}{what}")


def test_two_files_with_one_playbook_id_are_named(workspace: Path) -> None:
    books = workspace / "playbooks"
    (books / "zz-copy.yaml").write_text((books / "agent-compromise.yaml").read_text(encoding="utf-8"))
    listed = ir_cmd("playbook", "list", cwd=workspace)
    assert listed.returncode == 2
    assert listed.stderr.splitlines()[0] == (
        f"{books / 'zz-copy.yaml'}:2:1: playbook id 'agent-compromise' is also used by agent-compromise.yaml"
    )


def test_a_param_out_of_its_bounds_is_refused_before_any_case_exists(workspace: Path) -> None:
    ran = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--param", "stop_timeout=-5", cwd=workspace)
    assert ran.returncode == 2
    (line,) = ran.stderr.splitlines()
    book = workspace / "playbooks" / "agent-compromise.yaml"
    assert line == f"ir: error: {book}:19:3: param stop_timeout: -5 is less than the minimum 0"
    assert list((workspace / "cases").iterdir()) == []


def test_a_date_yaml_cannot_build_is_one_line_and_the_other_playbooks_still_list(workspace: Path) -> None:
    bad = workspace / "playbooks" / "bad-date.yaml"
    bad.write_text(HEADER + "title: 2001-13-45\nsteps: []\n", encoding="utf-8")
    listed = ir_cmd("playbook", "list", cwd=workspace)
    assert listed.returncode == 2
    no_traceback(listed)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["agent-compromise", "agent-reenable"]
    assert listed.stderr.splitlines() == [
        f"{bad}:4:8: '2001-13-45' is not a valid timestamp: month must be in 1..12 (quote it to keep it as text)",
        "ir: error: 1 playbook file(s) could not be loaded (see above)",
    ]


def test_a_5000_digit_integer_in_ir_yaml_is_one_line(workspace: Path) -> None:
    path = workspace / "ir.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "x_big: " + "9" * 5000 + "\n", encoding="utf-8")
    result = ir_cmd("agents", "list", cwd=workspace)
    assert result.returncode == 2
    no_traceback(result)
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"ir: error: {path}:") and line.endswith(
        ": integer literal longer than 100 digits (quote it to keep it as text)"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("\uff15", "'\uff15' is not an integer"),
        ("1_0", "'1_0' is not an integer"),
        (" 7", "' 7' is not an integer"),
        ("9" * 5000, "'" + "9" * 38 + "… is not an integer: longer than 100 characters"),
    ],
    ids=["fullwidth", "underscore", "space", "5000-digits"],
)
def test_an_integer_param_is_ascii_digits_and_a_long_value_is_not_echoed(
    workspace: Path, value: str, shown: str
) -> None:
    args = ("run", "agent-compromise", "--agent", "support-bot", "--param", f"stop_timeout={value}")
    ran = ir_cmd(*args, cwd=workspace)
    assert ran.returncode == 2
    (line,) = ran.stderr.splitlines()
    book = workspace / "playbooks" / "agent-compromise.yaml"
    assert line == f"ir: error: {book}:19:3: param stop_timeout: {shown}"
    assert list((workspace / "cases").iterdir()) == []


@pytest.mark.parametrize("raw", ["１.5", "1_0.5", " 2.5", "2.5 ", "0x10", "nan", "1e999", "9" * 101])
def test_a_number_param_is_ascii_and_finite(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^param n: .{1,40} is not a (finite )?number") as info:
        coerce_param("n", Param(type="number"), raw)
    assert len(str(info.value)) < 100


def test_plain_integers_and_numbers_still_convert() -> None:
    assert coerce_param("n", Param(type="integer"), "-30") == -30
    assert [coerce_param("n", Param(type="number"), v) for v in ("2", "-2.5", ".5", "1e3")] == [2.0, -2.5, 0.5, 1000.0]

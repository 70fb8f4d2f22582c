"""`ir tabletop list` and `ir tabletop lint` as a person runs them: rows, located lines, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, ir_cmd, make_workspace

FIXTURES = REPO / "tests" / "fixtures" / "tabletop"
BASE = (FIXTURES / "valid.yaml").read_text(encoding="utf-8")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace whose tabletop/ holds the valid fixture scenario and its alert body."""
    root = make_workspace(tmp_path / "ws")
    (root / "tabletop").mkdir()
    shutil.copy(FIXTURES / "valid.yaml", root / "tabletop" / "valid.yaml")
    shutil.copy(FIXTURES / "valid-falco.json", root / "tabletop" / "valid-falco.json")
    return root


def test_list_shows_each_scenario_with_its_counts(ws: Path) -> None:
    listed = ir_cmd("tabletop", "list", cwd=ws)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == ["ID", "VERSION", "INJECTS", "EXPECT", "ASI", "TITLE"]
    assert row.split()[:5] == ["lint-base", "1.0.0", "3", "5", "ASI01,ASI02"]
    assert row.endswith("Support bot posts customer data to a paste site")


def test_list_names_a_broken_file_with_its_first_error_and_still_lists_the_rest(ws: Path) -> None:
    (ws / "tabletop" / "broken.yaml").write_text(BASE.replace("at: 1m", "at: 1x").replace("to: R}", "to: X}"))
    listed = ir_cmd("tabletop", "list", cwd=ws)
    assert listed.returncode == 2
    lines = listed.stdout.splitlines()
    assert lines[1] == "error: tabletop/broken.yaml:57:5: injects.I1.at: '1x' is not a duration (e.g. 30s, 4m, 1h30m)"
    assert lines[2].startswith("lint-base ")
    assert listed.stderr.startswith("ir: error: 1 scenario file(s) do not load")
    as_json = ir_cmd("tabletop", "list", "--json", cwd=ws)
    assert as_json.returncode == 2
    broken, good = (json.loads(line) for line in as_json.stdout.splitlines())
    assert broken == {"file": "tabletop/broken.yaml", "error": lines[1].removeprefix("error: ")}
    assert good == {
        "file": "tabletop/valid.yaml",
        "id": "lint-base",
        "version": "1.0.0",
        "title": "Support bot posts customer data to a paste site",
        "asi": ["ASI01", "ASI02"],
        "atlas": ["AML.T0051.001"],
        "injects": 3,
        "expectations": 5,
    }


def test_list_reads_the_folder_ir_yaml_names(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", settings="tabletop_dir: drills\n")
    (root / "drills").mkdir()
    shutil.copy(FIXTURES / "valid.yaml", root / "drills" / "one.yaml")
    listed = ir_cmd("tabletop", "list", cwd=root)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].startswith("lint-base ")
    empty = ir_cmd("tabletop", "list", cwd=make_workspace(tmp_path / "empty"))
    assert (empty.returncode, empty.stdout) == (0, "no scenarios in tabletop\n")


def test_lint_passes_a_good_scenario_by_id_by_path_and_by_default(ws: Path) -> None:
    for args in ((), ("lint-base",), ("tabletop/valid.yaml",), ("valid",)):
        linted = ir_cmd("tabletop", "lint", *args, cwd=ws)
        assert (linted.returncode, linted.stdout, linted.stderr) == (0, "tabletop/valid.yaml: ok\n", ""), args


def test_lint_prints_every_error_in_document_order_and_exits_2(ws: Path) -> None:
    bad = BASE.replace("to: R}", "to: CEO}").replace("action: container.pause", "action: container.paws")
    (ws / "tabletop" / "valid.yaml").write_text(bad)
    linted = ir_cmd("tabletop", "lint", cwd=ws)
    assert linted.returncode == 2
    assert linted.stdout == ""
    assert linted.stderr.splitlines() == [
        "tabletop/valid.yaml:58:62: injects.I1.card.to: no role 'CEO'",
        "tabletop/valid.yaml:89:12: expectations.E1.step.action: no action 'container.paws' "
        "(did you mean 'container.pause'?)",
        "ir: error: 2 error(s) in 1 scenario(s)",
    ]
    as_json = ir_cmd("tabletop", "lint", "--json", "lint-base", cwd=ws)
    assert as_json.returncode == 2
    first = json.loads(as_json.stdout.splitlines()[0])
    assert first == {
        "file": "tabletop/valid.yaml",
        "line": 58,
        "col": 62,
        "path": "injects.I1.card.to",
        "severity": "error",
        "message": "no role 'CEO'",
    }


def test_warnings_alone_exit_0(ws: Path) -> None:
    (ws / "tabletop" / "valid.yaml").write_text(BASE.replace("by: agent-support-bot}", "by: mallory}"))
    linted = ir_cmd("tabletop", "lint", cwd=ws)
    assert linted.returncode == 0
    assert linted.stdout == "tabletop/valid.yaml: ok (1 warning(s))\n"
    assert linted.stderr.startswith("tabletop/valid.yaml:80:65: warning: injects.I2.world[1].by: no user or access key")


def test_lint_refuses_an_unknown_scenario_and_an_empty_folder(ws: Path, tmp_path: Path) -> None:
    unknown = ir_cmd("tabletop", "lint", "nope", cwd=ws)
    assert unknown.returncode == 2
    assert unknown.stderr == "ir: error: no scenario 'nope': not a file, nor an id in tabletop (known: valid)\n"
    empty = ir_cmd("tabletop", "lint", cwd=make_workspace(tmp_path / "empty"))
    assert (empty.returncode, empty.stderr) == (2, "ir: error: no scenarios to lint in tabletop\n")

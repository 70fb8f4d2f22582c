"""Building an exercise's sandbox: a `world.logs` path never lands on the sandbox's own files, every file
is created (never overwritten), and a sandbox that cannot be built or started leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.core.errors import InputError
from ir.core.workspace import find_workspace
from ir.tabletop.sandbox import create_sandbox
from ir.tabletop.scenario import load_scenario
from tests.conftest import REPO, ir_cmd, make_workspace

DRILL = REPO / "tests" / "fixtures" / "tabletop" / "key-leak-drill.yaml"
LOGS = "  logs:\n    logs/support-bot/tools.jsonl: |\n"


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("ir.yaml", "reserved: ir.yaml is the sandbox's settings"),
        ("playbooks/x.log", "reserved: playbooks/ holds the sandbox's playbooks"),
        (".ir/keys/ic", "reserved: .ir/ holds the sandbox's state and signing keys"),
    ],
)
def test_run_refuses_a_log_on_the_sandboxs_own_files_before_any_folder(tmp_path: Path, path: str, said: str) -> None:
    ws = make_workspace(tmp_path / "ws")
    scenario = tmp_path / "clash.yaml"
    scenario.write_text(DRILL.read_text().replace(LOGS, f'  logs:\n    {path}: "x"\n' + LOGS[len("  logs:\n") :]))
    result = ir_cmd("tabletop", "run", str(scenario), "--auto", cwd=ws)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and f"world.logs: '{path}': {said}" in result.stderr
    assert not (ws / "exercises").exists() or list((ws / "exercises").iterdir()) == []


def test_a_sandbox_that_cannot_be_built_is_removed_whole(tmp_path: Path) -> None:
    """Past the model (a scenario built in code): the key file is there already, so nothing is overwritten."""
    start = find_workspace(make_workspace(tmp_path / "ws"))
    loaded = load_scenario(DRILL)
    world = loaded.world.model_copy(update={"logs": {**loaded.world.logs, ".ir/keys/ic": "not a key"}})
    clash = loaded.model_copy(update={"world": world})
    with pytest.raises(InputError, match=r"the sandbox could not be built: .*\.ir/keys/ic would be written twice"):
        create_sandbox(start, clash, DRILL, exercise_id="EX-key-leak-drill-20261120T031000")
    assert list((start.root / "exercises").iterdir()) == []


def test_a_sandbox_whose_runtime_cannot_start_is_removed_whole(tmp_path: Path) -> None:
    from ir.tabletop.clock import parse_clock
    from ir.tabletop.exercise import Exercise

    start = find_workspace(make_workspace(tmp_path / "ws"))

    def broken(_sandbox: object) -> object:
        raise OSError("no space left on device")

    with pytest.raises(OSError, match="no space left"):
        Exercise.begin(
            start=start,
            scenario=load_scenario(DRILL),
            scenario_file=DRILL,
            runtime_for=broken,  # type: ignore[arg-type]
            clock=parse_clock("manual"),
            facilitator="fran",
        )
    assert list((start.root / "exercises").iterdir()) == []

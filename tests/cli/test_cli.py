"""The `ir` command as a real subprocess on a simulated-world workspace: output, exit codes, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import container_steps, ir_cmd, make_workspace


def json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_bare_ir_and_help_list_the_commands(tmp_path: Path) -> None:
    result = ir_cmd("--help", cwd=tmp_path, check=True)
    for command in ("init", "agents", "playbook", "run", "resume", "verify", "cases", "timeline", "decide", "tui"):
        assert f"  {command} " in result.stdout


def test_init_scaffolds_a_workspace_that_lints_and_refuses_a_second_init(tmp_path: Path) -> None:
    target = tmp_path / "team-ws"
    result = ir_cmd("init", str(target), check=True)
    assert "created" in result.stdout
    assert (target / "ir.yaml").is_file() and (target / "agents.yaml").is_file()
    assert (target / "playbooks" / "agent-compromise.yaml").is_file()
    assert ir_cmd("playbook", "lint", cwd=target).returncode == 0
    assert "example-agent" in ir_cmd("agents", "list", cwd=target, check=True).stdout
    again = ir_cmd("init", str(target))
    assert again.returncode == 2
    assert again.stderr.strip() == f"ir: error: {target}/ir.yaml: already a workspace; nothing changed"


def test_agents_list_show_and_unknown_agent(workspace: Path) -> None:
    listing = ir_cmd("agents", "list", cwd=workspace, check=True).stdout
    assert "support-bot" in listing and "secops@example.com" in listing and "simulated" in listing
    shown = ir_cmd("agents", "show", "support-bot", cwd=workspace, check=True).stdout
    assert "name: support-bot" in shown and "owner: secops@example.com" in shown
    unknown = ir_cmd("agents", "show", "nobody", cwd=workspace)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"ir: error: {workspace}/agents.yaml: unknown agent 'nobody' (known: support-bot)"


def test_a_broken_inventory_is_one_line_with_its_position(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", agents="agents:\n  a:\n    owner: x\n    owner: y\n")
    result = ir_cmd("agents", "list", cwd=ws)
    assert result.returncode == 2
    assert result.stderr.strip() == f"ir: error: {ws}/agents.yaml:4:5: duplicate key 'owner'"


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    result = ir_cmd("agents", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "no ir.yaml here or in any parent" in result.stderr


def test_playbook_list_show_schema(workspace: Path) -> None:
    listing = ir_cmd("playbook", "list", cwd=workspace, check=True).stdout
    assert listing.split()[:2] == ["agent-compromise", "1.2.1"]
    shown = ir_cmd("playbook", "show", "agent-compromise", cwd=workspace, check=True).stdout
    assert "19. stop — Stop the container (only when asked)" in shown
    assert "[approval required]" in shown
    schema = json.loads(ir_cmd("playbook", "schema", cwd=workspace, check=True).stdout)
    step = schema["$defs"]["Step"]
    assert "container.pause" in step["properties"]["action"]["enum"]
    stop_rule = next(r for r in step["allOf"] if r["if"]["properties"]["action"]["const"] == "container.stop")
    assert "timeout" in stop_rule["then"]["properties"]["with"]["properties"]


def test_lint_reports_every_problem_and_exits_2(workspace: Path) -> None:
    bad = workspace / "bad.yaml"
    bad.write_text(
        'schema: ir/playbook/v1\nid: bad\nversion: "1.0.0"\ntitle: B\nsteps:\n'
        "  - {id: a, title: A, action: container.pause}\n"
        "  - {id: b, title: B, action: container.frob, guidance: g}\n"
    )
    result = ir_cmd("playbook", "lint", str(bad), cwd=workspace)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"{bad}:6:5: step 'a' has no guidance for the responder",
        f"{bad}:7:23: unknown action 'container.frob' (see `ir playbook schema`)",
        "ir: error: 2 problem(s) in 1 playbook(s)",
    ]


def test_run_json_prints_events_then_a_summary(workspace: Path) -> None:
    result = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--json", cwd=workspace)
    assert result.returncode == 0, result.stderr
    objects = json_lines(result.stdout)
    assert all("event" in o for o in objects[:-1])
    assert objects[0]["event"] == "run.started"
    summary = objects[-1]
    assert summary["status"] == "succeeded"
    assert summary["steps"] == container_steps()
    case = Path(str(summary["case"]))
    assert case.parent == workspace / "cases"
    seqs = [o["seq"] for o in objects[:-1]]
    assert seqs == list(range(1, len(seqs) + 1))
    verified = ir_cmd("verify", str(case), cwd=workspace)
    assert verified.returncode == 0 and verified.stdout.startswith(
        f"ok: {len(seqs)} journal records chain correctly, 9 evidence"
    )


def test_bad_arguments_exit_2_and_create_no_case(workspace: Path) -> None:
    cases = [
        (["run", "agent-compromise", "--agent", "ghost"], "unknown agent 'ghost'"),
        (["run", "no-such-book", "--agent", "support-bot"], "no playbook with id 'no-such-book'"),
        (
            ["run", "agent-compromise", "--agent", "support-bot", "--param", "stop_container=perhaps"],
            "'perhaps' is not a boolean",
        ),
        (["run", "agent-compromise", "--agent", "support-bot", "--param", "nonsense"], "expected KEY=VALUE"),
        (["run", "agent-compromise", "--agent", "support-bot", "--approve", "stp"], "no step 'stp' to approve"),
        (["resume", "2099"], "2099: no such case"),
    ]
    for args, message in cases:
        result = ir_cmd(*args, cwd=workspace)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
    assert list((workspace / "cases").iterdir()) == []


def test_approval_wait_exits_4_and_resume_with_approval_finishes(workspace: Path) -> None:
    first = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", "--param", "stop_container=true", "--json", cwd=workspace
    )
    assert first.returncode == 4
    summary = json_lines(first.stdout)[-1]
    assert summary["status"] == "awaiting_approval" and summary["waiting_for"] == ["stop"]
    done = ir_cmd("resume", Path(str(summary["case"])).name, "--approve", "stop", "--json", cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert json_lines(done.stdout)[-1]["steps"]["stop"] == "succeeded"


def test_dry_run_changes_nothing_and_writes_no_case(workspace: Path) -> None:
    ir_cmd("agents", "list", cwd=workspace, check=True)
    result = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--dry-run", cwd=workspace, check=True)
    assert "status: running → paused" in result.stdout
    assert "network agents-net: connected → disconnected" in result.stdout
    assert list((workspace / "cases").iterdir()) == []
    world = workspace / ".ir" / "world.json"
    assert json.loads(world.read_text())["containers"]["support-bot"]["status"] == "running"


def test_verify_names_an_edited_journal_line_and_an_edited_evidence_file(workspace: Path) -> None:
    result = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--json", cwd=workspace, check=True)
    case = Path(str(json_lines(result.stdout)[-1]["case"]))
    journal = case / "journal.jsonl"
    original = journal.read_bytes()
    journal.write_bytes(original.replace(b'"status":"succeeded"', b'"status":"succeedeD"', 1))
    bad = ir_cmd("verify", str(case))
    assert bad.returncode == 1
    assert f"FAIL {journal}:" in bad.stderr and "was altered" in bad.stderr
    journal.write_bytes(original)
    blob = next(p for p in (case / "evidence" / "sha256").rglob("*") if p.is_file())
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    bad = ir_cmd("verify", str(case))
    assert bad.returncode == 1
    assert f"FAIL {blob}: content changed" in bad.stderr
    playbook = case / "playbook.yaml"
    os.chmod(playbook, 0o644)
    blob.write_bytes(
        bytes(data[: len(data) // 2]) + bytes([data[len(data) // 2] ^ 0x01]) + bytes(data[len(data) // 2 + 1 :])
    )
    playbook.write_text(playbook.read_text() + "# edited\n")
    bad = ir_cmd("verify", str(case))
    assert bad.returncode == 1 and "pinned playbook file changed" in bad.stderr


def test_hostile_text_from_the_world_cannot_drive_the_terminal(tmp_path: Path) -> None:
    evil = "bot\\e[2J\\e]0;pwned\\a\\x9b31m"
    world = f'containers:\n  "{evil}":\n    status: running\n    networks: {{n1: {{}}}}\n'
    agents = (
        "agents:\n  support-bot:\n    owner: o\n    purpose: p\n    backend: simulated\n"
        f'    container: {{name: "{evil}"}}\n'
    )
    ws = make_workspace(tmp_path / "ws", world=world, agents=agents)
    result = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=ws)
    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    assert "paused container bot\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m" in shown
    assert not any(ch in shown for ch in "\x1b\x07\x9b")

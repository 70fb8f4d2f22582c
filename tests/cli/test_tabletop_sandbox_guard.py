"""The interlock holds however a command reaches an exercise's sandbox: `ir -w <sandbox> run`,
`resume`, `contain` and the console get the guarded backends, not the plain ones."""

from __future__ import annotations

import json
from pathlib import Path

from ir.backends.exercise_guard import ExerciseBackends
from ir.core.journal import read
from ir.core.workspace import find_workspace
from ir.tabletop.sandbox import Sandbox, create_sandbox
from ir.tabletop.scenario import load_scenario
from tests.conftest import REPO, ir_cmd, make_workspace

DRILL = REPO / "tests" / "fixtures" / "tabletop" / "key-leak-drill.yaml"
FIRING = {
    "status": "firing",
    "labels": {"alertname": "AgentEgress", "agent_id": "support-bot", "severity": "critical"},
    "startsAt": "2026-11-20T03:12:00Z",
}
REAL_AWS = {"AWS_ENDPOINT_URL": "https://iam.us-east-1.amazonaws.com", "AWS_ACCESS_KEY_ID": "testing"}


def sandbox_of(tmp_path: Path, *, live_fire: bool, backend: str = "docker") -> Sandbox:
    """A sandbox whose agent holds AWS credentials on `backend` (no container: AWS only)."""
    text = DRILL.read_text().replace("backend: simulated", f"backend: {backend}")
    text = text.replace("      container: {name: support-bot}\n", "", 1)
    scenario_file = tmp_path / "live.yaml"
    scenario_file.write_text(text)
    start = find_workspace(make_workspace(tmp_path / "ws"))
    sandbox, _sha = create_sandbox(
        start, load_scenario(scenario_file), scenario_file, exercise_id="EX-live-20261120T031000", live_fire=live_fire
    )
    return sandbox


def failures(case_dir: Path) -> dict[str, str]:
    """Step id → why it failed, from the case journal."""
    return {
        r.data["step"]: str(r.data.get("error") or r.data.get("message") or r.data)
        for r in read(case_dir / "journal.jsonl").records
        if r.type == "step.result" and r.data.get("status") == "failed"
    }


def test_run_in_a_live_fire_sandbox_refuses_a_real_aws_endpoint(tmp_path: Path) -> None:
    sandbox = sandbox_of(tmp_path, live_fire=True)
    result = ir_cmd(
        "-w", str(sandbox.workspace_root), "run", "agent-compromise", "--agent", "support-bot", "--yes", env=REAL_AWS
    )
    assert result.returncode != 0
    (case,) = (sandbox.workspace_root / "cases").iterdir()
    failed = failures(case)
    assert {"credentials", "keys", "deny", "sessions"} <= set(failed)
    assert all(
        "interlock: live fire: AWS_ENDPOINT_URL=https://iam.us-east-1.amazonaws.com is not on loopback" in why
        for why in failed.values()
    ), failed


def test_resume_in_a_live_fire_sandbox_refuses_a_real_profile(tmp_path: Path) -> None:
    sandbox = sandbox_of(tmp_path, live_fire=True)
    loopback = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "x"}
    ws = str(sandbox.workspace_root)
    first = ir_cmd("-w", ws, "run", "agent-compromise", "--agent", "support-bot", env=loopback)
    assert first.returncode == 4, first.stdout + first.stderr  # waits for approval of console and secrets
    (case,) = (sandbox.workspace_root / "cases").iterdir()
    result = ir_cmd("-w", ws, "resume", case.name, "--approve", "console", env={**loopback, "AWS_PROFILE": "prod"})
    assert result.returncode != 0
    failed = failures(case)
    assert "exercise interlock: live fire: AWS profile 'prod' would supply real credentials" in failed["console"]


def test_a_sandbox_not_started_live_fire_refuses_every_real_backend(tmp_path: Path) -> None:
    """Someone edits the sandbox's agents.yaml to `backend: docker`: `ir contain` still does not reach AWS."""
    sandbox = sandbox_of(tmp_path, live_fire=False, backend="simulated")
    agents = sandbox.workspace_root / "agents.yaml"
    agents.write_text(agents.read_text().replace("backend: simulated", "backend: docker"))
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps({"status": "firing", "alerts": [FIRING]}))
    result = ir_cmd(
        "-w", str(sandbox.workspace_root), "contain", "--alert", str(alert), "--source", "alertmanager", env=REAL_AWS
    )
    assert result.returncode != 0
    (case,) = (sandbox.workspace_root / "cases").iterdir()
    failed = failures(case)
    assert failed and all(
        "interlock: backend docker: exercise EX-live-20261120T031000 was not started --live-fire" in why
        for why in failed.values()
    ), failed


def test_the_console_on_a_sandbox_gets_the_guarded_backends(tmp_path: Path) -> None:
    from ir.tui.app import make_app

    sandbox = sandbox_of(tmp_path, live_fire=False, backend="simulated")
    app = make_app(find_workspace(sandbox.workspace_root))
    assert isinstance(app.backends, ExerciseBackends)
    assert app.backends.exercise_id == "EX-live-20261120T031000" and not app.backends.live_fire
    plain = make_app(find_workspace(make_workspace(tmp_path / "team")))
    assert not isinstance(plain.backends, ExerciseBackends)

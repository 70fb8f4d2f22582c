"""`ir report` on a real case: agent-compromise against a private dockerd and moto, then md, html and json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ir.core.journal import read
from tests.cli.test_report import assert_inert_html, assert_matches_journal
from tests.conftest import SECRET_CANARY, ir_cmd
from tests.integration.test_aws_revocation import ENV_CANARY, setup

pytestmark = pytest.mark.docker

CONTAINER_CANARY = "canary-env-9f8e7d6c5b4a"
"""The `AGENT_TOKEN` the `agent_container` fixture plants in the container's environment."""


def test_report_of_a_real_docker_and_aws_case(
    tmp_path: Path, dockerd: str, agent_container: dict[str, Any], aws: dict[str, str], signers: Any
) -> None:
    ws, _seeded = setup(tmp_path, aws)  # moto seeded; the agent minted a helper user (CloudTrail says how)
    agents = (ws / "agents.yaml").read_text()
    (ws / "agents.yaml").write_text(
        agents.replace(
            "    backend: docker\n", f"    backend: docker\n    container: {{name: {agent_container['name']}}}\n"
        )
    )
    signers(ws, "alice")
    env = {**aws, "DOCKER_HOST": dockerd, "IR_USER": "alice", "IR_TEST_API_TOKEN": ENV_CANARY}

    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    case = Path(json.loads(run.stdout.splitlines()[-1])["case"])
    decided = ir_cmd(
        "decide", case.name, "--decision", "keep-disabled", "--by", "alice", "--reason", "drill", cwd=ws, env=env
    )
    assert decided.returncode == 0, decided.stderr

    heads, texts = {}, {}
    for fmt in ("md", "html", "json"):
        heads[fmt] = read(case / "journal.jsonl").records[-2:]
        done = ir_cmd("report", case.name, "--format", fmt, cwd=ws, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "signed by alice" in done.stdout
        texts[fmt] = (case / f"report.{fmt}").read_text(encoding="utf-8")

    assert_matches_journal(case, texts, heads, "alice")
    assert_inert_html(texts["html"])
    data = json.loads(texts["json"])
    steps = {s["id"]: s["status"] for s in data["done"]["steps"]}
    assert steps["freeze"] == steps["keys"] == steps["sessions"] == steps["snapshot"] == "succeeded"
    assert data["times"]["contained"] is not None
    assert {e["name"] for e in data["evidence"]} >= {"inspect.json", "logs.txt", "filesystem.tar", "image.tar"}
    assert [u["name"] for u in data["unavailable"]] == ["checkpoint.tar"]
    for fmt, text in texts.items():
        for secret in (CONTAINER_CANARY, SECRET_CANARY, ENV_CANARY, "Sup3r-secret-pw!"):
            assert secret not in text, f"{secret} leaked into report.{fmt}"
    assert ir_cmd("verify", case.name, "--strict", cwd=ws, env=env).returncode == 0

"""The command line says what is still live, and exits 1 until containment is whole."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ir_cmd, make_workspace
from tests.unit.test_honest_status import AGENT, CLOUD, MINTED_KEY


def test_a_cloudtrail_outage_exits_1_naming_the_minted_key_and_resume_contains_it(tmp_path: Path) -> None:
    outage = "faults:\n  lookup_events: {error: transient, times: 3}\n"  # every attempt of find_minted
    ws = make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD + outage)
    first = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "\nrun failed  case " in first.stdout
    block = first.stdout[first.stdout.index("still live (") :]
    assert f"  - {MINTED_KEY} — step minted-keys: step minted-keys was skipped: when:" in block
    assert "Traceback" not in first.stderr
    (case,) = (ws / "cases").iterdir()

    again = ir_cmd("resume", case.name, "--yes", "--json", cwd=ws)
    assert again.returncode == 0, again.stdout + again.stderr
    summary = json.loads(again.stdout.splitlines()[-1])
    assert summary["status"] == "succeeded" and summary["still_live"] == []
    assert summary["steps"]["minted-keys"] == "succeeded"
    world = json.loads((ws / ".ir" / "world.json").read_text())
    assert world["iam"]["users"]["support-bot-helper"]["access_keys"][0]["status"] == "Inactive"
    assert ir_cmd("verify", case.name, cwd=ws).returncode == 0

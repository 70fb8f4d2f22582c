"""The console's playbook chooser: a broken file in playbooks/ is named, the good playbooks still start."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ir.core.workspace import find_workspace
from ir.tui.app import make_app
from ir.tui.screens.prompt import ChoicePrompt
from tests.conftest import make_workspace


def test_a_bad_playbook_file_is_named_and_the_others_are_offered(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    bad = ws / "playbooks" / "broken.yaml"
    bad.write_text("schema: ir/playbook/v1\ntitle: a NUL \x00 here\n", encoding="utf-8")

    async def scenario() -> None:
        app = make_app(find_workspace(ws), actor="tester")
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("enter")  # start an incident on the highlighted agent
            assert isinstance(app.screen, ChoicePrompt)
            assert [choice for choice, _label in app.screen.choices] == ["agent-compromise"]
            notices = [str(n.message) for n in app._notifications]
            assert any(f"{bad}:2:14: control character U+0000 is not allowed" in n for n in notices), notices

    asyncio.run(scenario())

"""Every CLI command and every action is documented; the README's first commands are the real ones."""

from __future__ import annotations

import re

import click

from ir.actions import default_registry
from ir.cli import cli
from tests.conftest import REPO


def command_paths(group: click.Group, prefix: str = "ir") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
        else:
            paths.append(path)
    return paths


def test_every_cli_command_is_documented() -> None:
    text = (REPO / "docs" / "cli.md").read_text()
    documented = set(re.findall(r"^## `(ir[^`]*)`", text, re.M))
    missing = [p for p in command_paths(cli) if not any(d == p or d.startswith(p + " ") for d in documented)]
    assert missing == []


def test_every_action_is_documented_with_its_arguments() -> None:
    text = (REPO / "docs" / "actions.md").read_text()
    for action in default_registry():
        section = re.search(rf"^## `{re.escape(action.name)}`\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        assert section, f"{action.name} is not documented in docs/actions.md"
        for arg in action.Params.model_fields:
            assert f"`{arg}`" in section.group(1), f"{action.name}: argument {arg} undocumented"


def test_readme_starts_with_the_demo_and_test_commands() -> None:
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert blocks[0].strip().splitlines()[-1] == "make run"
    assert blocks[1].strip().splitlines()[-1] == "make test"
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_every_alert_setting_is_documented() -> None:
    """Every field of `ir.yaml`'s `alerts:` section (and of its parts) has a row in docs/alerts.md."""
    from pydantic import BaseModel

    from ir.core.alert_settings import AlertSettings

    text = (REPO / "docs" / "alerts.md").read_text()
    rows = set(re.findall(r"^\| `([^`]+)` \|", text, re.M))
    leaves = {row.rsplit(".", 1)[-1].removeprefix("routes[].") for row in rows}
    seen: set[type[BaseModel]] = set()
    missing = []

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            if name not in leaves:
                missing.append(f"{model.__name__}.{name}")
            for kind in (*getattr(field.annotation, "__args__", ()), field.annotation):
                inner = (*getattr(kind, "__args__", ()), kind)
                for part in inner:
                    if isinstance(part, type) and issubclass(part, BaseModel):
                        walk(part)

    walk(AlertSettings)
    assert missing == []
    for policy in ("observe", "shadow", "approve", "auto_then_approve", "auto"):
        assert f"| `{policy}` |" in text


def test_every_scenario_field_is_documented() -> None:
    """Every model of the scenario (ir/tabletop/scenario/) has a section in docs/tabletop.md with a row per field,
    every condition and world-change op is described, and the example there lints clean."""
    from pydantic import BaseModel

    from ir.cli.tabletop import lint_context
    from ir.core.workspace import find_workspace
    from ir.tabletop import scenario
    from ir.tabletop.lint import lint_text

    text = (REPO / "docs" / "tabletop.md").read_text()
    models = [
        m
        for m in vars(scenario).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__.startswith(scenario.__name__)
    ]
    assert len(models) >= 15
    missing = []
    for model in models:
        section = re.search(rf"^### `{model.__name__}`\n(.*?)(?=^#|\Z)", text, re.M | re.S)
        if section is None:
            missing.append(model.__name__)
            continue
        for name, field in model.model_fields.items():
            row = re.search(rf"^\| `{re.escape(field.alias or name)}` \|(.*)\|\s*$", section.group(1), re.M)
            if row is None or not row.group(1).rsplit("|", 1)[-1].strip():
                missing.append(f"{model.__name__}.{field.alias or name}")
    assert missing == []
    for condition in ("contained", "frozen", "revoked", "case_open", "decided", "delivered"):
        assert f"| `{condition}(" in text
    for op in scenario.WORLD_OPS:
        assert f"| `{op}` |" in text
    example = re.search(r"^## A complete example\n.*?```yaml\n(.*?)```", text, re.M | re.S)
    assert example is not None
    findings = lint_text(example.group(1), "docs/tabletop.md", lint_context(find_workspace(REPO)))
    assert [str(f) for f in findings] == []


def test_the_lint_section_lists_a_non_simulated_agent_where_lint_puts_it() -> None:
    """docs/tabletop.md once called it an error; lint warns (the run refuses it without --live-fire)."""
    from ir.cli.tabletop import lint_context
    from ir.core.workspace import find_workspace
    from ir.tabletop.lint import lint_text

    text = (REPO / "docs" / "tabletop.md").read_text()
    lint = text.split("## Lint", 1)[1].split("## A complete example", 1)[0]
    errors, warnings = lint.split("**Warnings**", 1)
    assert "backend is not `simulated`" in warnings and "backend is not `simulated`" not in errors
    assert "must be `simulated`" not in text
    scenario = (REPO / "tests" / "fixtures" / "tabletop" / "valid.yaml").read_text()
    found = lint_text(
        scenario.replace("backend: simulated", "backend: docker", 1), "s.yaml", lint_context(find_workspace(REPO))
    )
    assert [f.severity for f in found if f.path.endswith(".backend")] == ["warning"]

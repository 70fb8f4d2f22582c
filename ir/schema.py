"""The JSON Schema of playbooks, with each action's `with:` arguments, for editors."""

from __future__ import annotations

from typing import Any

from ir.core.action import Registry
from ir.core.playbook import Playbook


def playbook_json_schema(registry: Registry) -> dict[str, Any]:
    """Playbook schema whose steps know every registered action and its arguments."""
    schema = Playbook.model_json_schema(by_alias=True)
    schema["$id"] = "https://agent-ir.dev/schema/playbook/v1.json"
    step = schema["$defs"]["Step"]
    step["properties"]["action"]["enum"] = registry.names()
    rules = []
    for action in registry:
        params = action.Params.model_json_schema()
        params.pop("title", None)
        rules.append(
            {
                "if": {"properties": {"action": {"const": action.name}}},
                "then": {"properties": {"with": params}},
            }
        )
    step["allOf"] = rules
    return schema

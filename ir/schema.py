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
    schema["$defs"]["Param"]["allOf"] = _param_rules()
    return schema


def _param_rules() -> list[dict[str, Any]]:
    """Which bounds fit which param type (the loader refuses the others with file:line:col)."""

    def of_type(*types: str) -> dict[str, Any]:
        return {"properties": {"type": {"enum": list(types)}}, "required": ["type"]}

    def absent(*fields: str) -> dict[str, Any]:
        return {"properties": {name: {"type": "null"} for name in fields}}

    return [
        {"if": of_type("integer", "number"), "else": absent("min", "max")},
        {"if": of_type("boolean", "integer", "number"), "then": absent("pattern")},
        {"if": of_type("boolean"), "then": absent("choices")},
        {"if": of_type("integer"), "then": {"properties": {"default": {"type": ["integer", "null"]}}}},
        {"if": of_type("number"), "then": {"properties": {"default": {"type": ["number", "null"]}}}},
        {"if": of_type("boolean"), "then": {"properties": {"default": {"type": ["boolean", "null"]}}}},
        {"if": of_type("list"), "then": {"properties": {"default": {"type": ["array", "null"]}}}},
    ]

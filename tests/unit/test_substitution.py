"""References look values up and never execute anything."""

from __future__ import annotations

import pytest

from ir.core.substitution import SubstitutionError, Unresolved, evaluate_condition, references, render

SCOPE = {
    "params": {"stop": True, "n": 10, "name": "x"},
    "agent": {"id": "bot", "container": {"name": "bot-c"}},
    "steps": {"isolate": {"outputs": {"networks": [{"name": "a"}]}, "status": "succeeded"}},
}


def test_whole_reference_keeps_type_and_embedded_reference_renders_text() -> None:
    assert render("${{ params.stop }}", SCOPE) is True
    assert render("${{params.n}}", SCOPE) == 10
    assert render({"nets": "${{ steps.isolate.outputs.networks }}"}, SCOPE) == {"nets": [{"name": "a"}]}
    assert render("container ${{ agent.container.name }} of ${{ agent.id }}", SCOPE) == "container bot-c of bot"
    assert render(["${{ params.n }}", 3], SCOPE) == [10, 3]


@pytest.mark.parametrize(
    "expr",
    [
        "${{ __import__('os').system('id') }}",
        "${{ params.n + 1 }}",
        "${{ env.HOME }}",
        "${{ params['n'] }}",
        "${{ steps.isolate.outputs.networks[0] }}",
    ],
)
def test_anything_but_a_dotted_path_is_refused(expr: str) -> None:
    with pytest.raises(SubstitutionError, match="bad reference"):
        render(expr, SCOPE)


def test_missing_path_names_what_is_missing() -> None:
    with pytest.raises(SubstitutionError, match=r"params\.nope does not exist"):
        render("${{ params.nope }}", SCOPE)


def test_conditions() -> None:
    assert evaluate_condition("${{ params.stop }}", SCOPE) is True
    assert evaluate_condition("not params.stop", SCOPE) is False
    assert evaluate_condition("${{ params.name == 'x' }}", SCOPE) is True
    assert evaluate_condition("params.n != 10", SCOPE) is False
    assert evaluate_condition("steps.isolate.status == succeeded", SCOPE) is True
    with pytest.raises(SubstitutionError, match="bad condition"):
        evaluate_condition("params.n > 3", SCOPE)


def test_unresolved_outputs_stay_unresolved_for_dry_runs() -> None:
    scope = {**SCOPE, "steps": {"isolate": Unresolved("steps.isolate")}}
    value = render("${{ steps.isolate.outputs.networks }}", scope)
    assert isinstance(value, Unresolved)
    assert str(value) == "<steps.isolate.outputs.networks>"
    assert isinstance(evaluate_condition("steps.isolate.outputs.x", scope), Unresolved)


def test_references_are_listed() -> None:
    found = list(references({"a": "${{ params.n }} and ${{ steps.isolate.outputs.x }}", "b": ["${{ agent.id }}"]}))
    assert found == [("params", "n"), ("steps", "isolate", "outputs", "x"), ("agent", "id")]

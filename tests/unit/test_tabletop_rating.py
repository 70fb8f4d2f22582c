"""The P/S/M/U rule: an objective's rating from its expectations (engine ones: step, order, world,
decision; the facilitator's: manual), a pending one counting as not passed."""

from __future__ import annotations

import pytest

from ir.tabletop.expectations import Result
from ir.tabletop.scoring import RATINGS, rate


def r(kind: str, status: str, eid: str = "E") -> Result:
    return Result(
        expectation=eid,
        objective="O1",
        kind=kind,
        title="t",
        status=status,  # type: ignore[arg-type]
        why="w",
        source="facilitator" if kind == "manual" else "engine",
    )


@pytest.mark.parametrize(
    ("results", "rating"),
    [
        ([r("step", "passed"), r("world", "passed"), r("manual", "passed")], "P"),
        ([r("order", "passed")], "P"),
        ([r("step", "passed"), r("manual", "failed")], "S"),
        ([r("decision", "passed"), r("manual", "pending")], "S"),
        ([r("manual", "passed"), r("manual", "failed")], "S"),
        ([r("step", "passed"), r("world", "failed")], "M"),
        ([r("manual", "passed"), r("order", "failed")], "M"),
        ([r("step", "passed"), r("decision", "pending")], "M"),
        ([r("step", "failed"), r("manual", "failed")], "U"),
        ([r("world", "pending")], "U"),
        ([r("manual", "pending")], "U"),
    ],
)
def test_the_rating_rule(results: list[Result], rating: str) -> None:
    assert rate(results)[0] == rating
    assert rating in RATINGS


def test_an_objective_with_no_expectation_is_not_rated() -> None:
    assert rate([]) == (None, "no expectation counts for it")


def test_the_why_names_what_held_it_back() -> None:
    found = rate([r("step", "passed", "E1"), r("world", "failed", "E2"), r("manual", "pending", "E3")])
    assert found == ("M", "1 of 3 passed; engine expectation(s) not passed: E2")
    assert rate([r("step", "passed", "E1"), r("manual", "failed", "E3")])[1].endswith("(facilitator): E3")

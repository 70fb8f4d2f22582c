"""The timeline's output for the bench's generated input is byte for byte today's (main at 316e476).

The goldens are sha256 digests of each export format and of the summary, with the input folder's
path replaced by `DIR`; `tests/unit/timeline_golden.py` says how to regenerate them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.timeline_golden import CASES, make, render

GOLDEN = {
    "bench-3000": {
        "events": 3000,
        "jsonl": "4045e2c55dfd3f05e45fd4fa3280a02d048ffa660983122b66c91748e1a5c277",
        "summary": "5e1e8a6a3871b4ba0cd6b971e88e0494e649a9e04cbb970f0ff032d92cd942c3",
        "table": "3b554a4d3a5d2cda4bcc43fa04336953eb8846d3e1febc35ed88f34ce09423bd",
        "timesketch": "68fec0af60d0130aed66a5c8220c09f2b68ea1e8f5b610e8cce03b26c4c9cf9a",
        "timesketch-csv": "269f16beeb74082039356c8d7eb87d70e2769ad00e7ded77d0fe0ccad908769e",
    },
    "extras": {
        "events": 3010,
        "jsonl": "e7052caf7513086c260b9e488a4936395700e5e9b2be595744e37c79c8a3e32b",
        "summary": "723059a936084dd0caf8d80cbe83a26b5f9c191e890d3059f11552cc542f97ee",
        "table": "225c5d3d14ef53511688013c60d1f87afd8420e2c96e29cf1a565c417e813797",
        "timesketch": "f4d005c0f474775286a1cb29189d88b40bb335acfdb790236b18d50771810f72",
        "timesketch-csv": "fce84cf18e7685875d97772814885655cf50820b5f73247fd8c87749db899978",
    },
}
GOLDEN["bench-3000-spilled"] = GOLDEN["bench-3000"]  # spilling in runs changes nothing


@pytest.mark.parametrize("lines", [False, True], ids=["events", "lines"])
@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "pool"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_todays(tmp_path: Path, name: str, workers: int, lines: bool) -> None:
    """In this process and in a pool of workers, spilled in runs or not, each event read as a dict
    or its line rendered by a worker (as `ir timeline` writes): the same bytes as before."""
    events, run, extras = CASES[name]
    folder, agent = make(tmp_path / "logs", events, extras)
    assert render(folder, agent, run=run, workers=workers, lines=lines) == GOLDEN[name]


def test_grouped_hints_are_every_hint() -> None:
    from ir.core.redaction import _HINT_GROUPS, _HINTS, might_hold_secret

    assert sorted(h for _stem, group in _HINT_GROUPS for h in group) == sorted(_HINTS)
    for hint in _HINTS:
        assert might_hold_secret(f"x {hint.upper()} y")
    assert not might_hold_secret("fs.read /data/12.txt https://support.example.com/t")


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "pool"])
def test_progress_reports_each_source_then_its_end(tmp_path: Path, workers: int) -> None:
    from ir.timeline.pipeline import build

    folder, _agent = make(tmp_path / "logs", 3000, False)
    calls: list[tuple[str, int, bool]] = []
    timeline = build([folder], workers=workers, progress=lambda *call: calls.append(call))
    assert sum(1 for _ in timeline.events()) == 3000
    finished = {name: count for name, count, done in calls if done}
    assert finished == {s.path: s.events for s in timeline.stats}
    assert sum(finished.values()) == 3000
    for name in finished:  # counts only grow, and nothing comes after a source's end
        mine = [(count, done) for n, count, done in calls if n == name]
        assert mine[-1][1] and [c for c, _ in mine] == sorted(c for c, _ in mine)

"""Lint benchmark: `lint()` on a generated playbook of N steps (default 13,000), which must be linear.

    python -m bench.lint [--steps N] [--rounds R]

The playbook is generated in memory: a snapshot step, then N-1 follow-up steps, each
referring to the step before it (in `with:` and in `when:`), so every reference check runs.
At 13,000 steps the YAML is larger than the 1 MB a playbook file may be, so the benchmark
parses it with that cap lifted: it measures lint, not loading. It prints the parse time, the
lint time (median of R rounds) and the number of problems lint found (0 expected).
"""

from __future__ import annotations

import argparse
import statistics
import time

from ir.actions import default_registry
from ir.core import yamlsafe
from ir.core.lint import lint
from ir.core.playbook import LoadedPlaybook, parse_playbook


def generate(steps: int) -> str:
    """A valid playbook of `steps` steps as YAML text."""
    lines = [
        "schema: ir/playbook/v1",
        "id: generated",
        'version: "1.0.0"',
        "title: generated for the lint benchmark",
        "params: {flag: {type: boolean, default: true}}",
        "steps:",
        "  - {id: s0, title: capture, action: evidence.container_snapshot, guidance: capture first}",
    ]
    for i in range(1, steps):
        lines.append(
            f"  - {{id: s{i}, title: t, action: manual.follow_up, guidance: g, when: '${{{{ params.flag }}}}',"
            f" with: {{what: '${{{{ steps.s{i - 1}.status }}}}', owner: o, why: w}}}}"
        )
    return "\n".join(lines) + "\n"


def load(text: str) -> LoadedPlaybook:
    """Parse `text` with the file-size cap lifted (see the module docstring)."""
    cap = yamlsafe.MAX_DOCUMENT_BYTES
    yamlsafe.MAX_DOCUMENT_BYTES = len(text.encode()) + 1
    try:
        return parse_playbook(text, "generated.yaml")
    finally:
        yamlsafe.MAX_DOCUMENT_BYTES = cap


def main() -> None:
    """Generate, parse, lint; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=13_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    text = generate(args.steps)
    started = time.perf_counter()
    loaded = load(text)
    parsed = time.perf_counter() - started
    registry, times, problems = default_registry(), [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        problems = lint(loaded, registry)
        times.append(time.perf_counter() - started)
    print(f"steps {args.steps}  yaml {len(text) / 1e6:.2f} MB  parse {parsed:.2f} s")
    print(f"lint  median {statistics.median(times):.3f} s over {args.rounds} round(s)  problems {len(problems)}")
    for problem in problems[:5]:
        print(f"  {problem}")


if __name__ == "__main__":
    main()

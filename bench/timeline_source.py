"""One source through the workers' path, N times in one process: what `bench/icount.sh` counts.

    python -m bench.timeline_source FILE FORMAT N [parse|full]

`full`: parse, facts, record (line rendered), sort and runs (`runs.sort_source`); `parse`: the
parser alone.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from ir.timeline.merge import Everything
from ir.timeline.runs import sort_source
from ir.timeline.sources import PARSERS
from ir.timeline.sources.base import SourceStats
from ir.timeline.untimed import Untimed


def main() -> None:
    path, fmt, passes = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "full"
    gc.disable()  # (as the workers run)
    for _ in range(passes):
        stats = SourceStats(str(path), fmt)
        if mode == "parse":
            for _event in PARSERS[fmt](path, stats):
                pass
            continue
        runs, _anchors = sort_source(
            PARSERS[fmt](path, stats),
            rank=0,
            sidx=0,
            fmt="jsonl",
            cloud_wanted=Everything(),
            stats=stats,
            held=Untimed(),
            path=path,
        )
        for run in runs:
            if not isinstance(run, list):
                run.close()


if __name__ == "__main__":
    main()

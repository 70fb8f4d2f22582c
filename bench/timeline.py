"""Timeline benchmark: events/s and peak memory of `ir timeline` vs `jq` sorting and `wc -l`.

    python -m bench.timeline [--events N] [--small N] [--baseline REV] [--repeat N]

A deterministic generator (seeded) writes N mixed events across four formats — the JSONL
tool-call log, Docker json-file logs, CloudTrail JSON lines and OTel SDK spans as JSON lines —
each file out of order in places, as real logs are. Then, in one run, on the same bytes:

  * `ir timeline DIR --format jsonl --out /dev/null` on every core, and pinned to one (taskset -c 0);
  * the same `ir timeline` of `--baseline REV` (checked out in a temporary `git worktree`, run with
    its own PYTHONPATH), both ways;
  * `jq -c -s 'sort_by(.ts // .time // .eventTime // .start_time)[]'` (jq loads all, then sorts);
  * `wc -l` (the I/O floor).

Peak memory is each process's own maximum RSS (os.wait4). The same is run at `--small` events
to show whether memory stays flat in input size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

START = 1_795_662_000  # 2026-11-20T03:00:00Z
TOOLS = ("email.read", "fs.read", "http.get", "http.post", "crm.export", "shell", "search")


def _iso(seconds: float) -> str:
    whole = int(seconds)
    frac = int((seconds - whole) * 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{frac:06d}Z"


def generate(folder: Path, total: int, seed: int = 42) -> int:
    """Write `total` events across the four formats; returns the bytes written."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    shares = {"tools.jsonl": 0.4, "container-json.log": 0.3, "cloudtrail.jsonl": 0.2, "spans.jsonl": 0.1}
    written = 0
    for name, share in shares.items():
        count = int(total * share)
        with (folder / name).open("w", encoding="utf-8") as fh:
            for i in range(count):
                # mostly in order, with local shuffles (late writes, several writers)
                t = START + i * (3600 / count) + rng.uniform(-2.0, 2.0)
                line = json.dumps(_record(name, i, t, rng), separators=(",", ":"))
                fh.write(line + "\n")
                written += len(line) + 1
    return written


def _record(name: str, i: int, t: float, rng: random.Random) -> dict[str, Any]:
    tool = TOOLS[i % len(TOOLS)]
    if name == "tools.jsonl":
        return {
            "ts": _iso(t),
            "agent": "support-bot",
            "session": f"s-{i // 50}",
            "tool": tool,
            "call_id": f"c{i}",
            "arguments": {"path": f"/data/{rng.randrange(1000)}.txt", "url": "https://support.example.com/t"},
            "success": True,
        }
    if name == "container-json.log":
        return {
            "log": f"worker {i % 8}: processed ticket {rng.randrange(100000)}\n",
            "stream": "stdout",
            "time": _iso(t),
        }
    if name == "cloudtrail.jsonl":
        return {
            "eventTime": _iso(t)[:19] + "Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "sourceIPAddress": "10.20.0.5",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": {"bucketName": "customer-data", "key": f"k{i}"},
            "eventID": f"e{i}",
            "userIdentity": {"type": "IAMUser", "userName": "agent-support-bot", "accessKeyId": "AKIAAGENT"},
        }
    return {
        "name": f"execute_tool {tool}",
        "context": {"trace_id": i // 10 + 1, "span_id": i + 1},
        "start_time": int(t * 1e9),
        "attributes": {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": f"o{i}",
        },
    }


def measure(command: list[str], **kwargs: Any) -> tuple[float, int]:
    """(wall seconds, peak RSS in MiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} exited {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_maxrss // 1024


REPO = Path(__file__).resolve().parent.parent


def run(total: int, baseline: Path | None = None, repeat: int = 1) -> dict[str, Any]:
    """Generate `total` events and measure the commands on them (`ir` of this tree and of
    `baseline`), each the fastest of `repeat` runs, interleaved."""
    with tempfile.TemporaryDirectory(prefix="ir-tl-bench-") as tmp:
        folder = Path(tmp) / "logs"
        size = generate(folder, total)
        files = sorted(str(p) for p in folder.iterdir())
        ir = [
            str(Path(sys.executable).parent / "ir"),
            "timeline",
            str(folder),
            "--format",
            "jsonl",
            "--out",
            "/dev/null",
        ]
        one = ["taskset", "-c", "0", *ir] if shutil.which("taskset") else ir
        result: dict[str, Any] = {"events": total, "bytes": size}
        trees = {"ir": REPO, "base": baseline} if baseline else {"ir": REPO}
        found: dict[str, list[tuple[float, int]]] = {}
        for _round in range(repeat):  # interleaved: a slow minute of the machine hits every command
            for name, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": str(tree)}
                found.setdefault(name, []).append(measure(ir, cwd=tmp, env=env))
                found.setdefault(f"{name}-1", []).append(measure(one, cwd=tmp, env=env))
        for name, runs in found.items():
            result[name] = (min(s for s, _rss in runs), max(rss for _s, rss in runs))
        result["wc"] = measure(["wc", "-l", *files])
        if shutil.which("jq"):
            result["jq"] = measure(["jq", "-c", "-s", "sort_by(.ts // .time // .eventTime // .start_time)[]", *files])
        return result


def calibrate() -> float:
    """CPU seconds of a fixed pure-Python loop (20M additions): how fast this machine is right now.
    On a shared VM it moves by a third between minutes; figures are comparable at equal readings."""
    start = time.process_time()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.process_time() - start


def stages(total: int, workers: int = 1) -> dict[str, float]:
    """Microseconds per event of each pipeline stage, on `total` generated events (`workers`: 1 =
    all in this process, so every stage's CPU is timed here).

    The workers' half: parse, the detectors' per-event facts, redaction of the event's own texts,
    its JSON line, sort in runs (`build`). The parent's half, each timed on a fresh build: reading
    the runs back and merging them in sorted blocks; the dedup window (folding repeated tool calls);
    the analyser, tags put into lines, and writing. Where the time goes, for whoever takes the
    throughput further.
    """
    from ir.timeline.merge import cleanup, merged_blocks
    from ir.timeline.partition import Split
    from ir.timeline.pipeline import build
    from ir.timeline.stream import Stream

    def fresh() -> Any:
        return build([folder], workers=workers, fmt="jsonl")

    def timed(work: Any) -> float:
        start = time.process_time()
        work()
        return time.process_time() - start

    with tempfile.TemporaryDirectory(prefix="ir-tl-stages-") as tmp:
        folder = Path(tmp) / "logs"
        generate(folder, total)
        start = time.process_time()
        timeline = fresh()
        parse = time.process_time() - start
        events = sum(st.events for st in timeline.stats)
        cleanup(timeline.sources)
        timeline = fresh()
        merge = timed(lambda: sum(len(b) for b in merged_blocks(timeline.sources)))
        timeline = fresh()
        stream = Stream(timeline.sources, timeline.analyzer, timeline.untimed, timeline.fmt, dedup=timeline.dedup)
        released = timed(lambda: sum(len(b) for b in stream._released()))
        timeline = fresh()
        timeline.split = Split(at_least=sys.maxsize)  # one pass: a forked child's CPU is not counted here
        with open(os.devnull, "w", encoding="utf-8") as sink:
            whole = timed(lambda: timeline.write(sink, "jsonl"))
    costs = {
        "parse, facts, line, sort (workers)": parse,
        "read runs + merge": merge,
        "dedup window (when a call id is in two sources)": released - merge,
        "analyse + tags + write": whole - released,
    }
    return {name: seconds * 1e6 / events for name, seconds in costs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--stages", type=int, metavar="N", help="only time each stage on N events, in-process")
    parser.add_argument("--baseline", metavar="REV", help="also run `ir timeline` of this git revision")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="each `ir` run N times, the fastest kept")
    args = parser.parse_args()
    if args.stages:
        costs = stages(args.stages)
        for name, micros in costs.items():
            print(f"{name:<50} {micros:6.2f} µs/event")
        print(f"{'total':<50} {sum(costs.values()):6.2f} µs/event = {1e6 / sum(costs.values()):,.0f} events/s")
        return
    before = calibrate()
    with _worktree(args.baseline) as baseline:
        rows = [run(args.small, baseline, args.repeat), run(args.events, baseline, args.repeat)]
    after = calibrate()
    print(f"machine: {os.cpu_count()} cpus, Python {sys.version.split()[0]}; baseline {args.baseline or '-'}")
    print(f"each `ir` the fastest of {args.repeat} run(s), interleaved with the baseline's")
    print(f"speed reading (a 20M-addition Python loop, CPU s): {before:.2f} before, {after:.2f} after\n")
    print("| events | MB | command | cores | time | events/s | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        measured = [(k, v) for k, v in r.items() if isinstance(v, tuple)]
        for name, (seconds, rss) in measured:
            what = {"ir": "ir timeline", "base": f"ir timeline @ {args.baseline}", "jq": "jq sort", "wc": "wc -l"}
            label = what[name.removesuffix("-1")]
            cores = "1" if name.endswith("-1") or name in ("jq", "wc") else str(os.cpu_count())
            print(
                f"| {r['events']:,} | {r['bytes'] / 1e6:.0f} | {label} | {cores} | {seconds:.2f} s | "
                f"{r['events'] / seconds:,.0f} | {rss} MiB |"
            )
    print(f"\nir peak memory, {args.events:,} vs {args.small:,} events: {rows[1]['ir'][1] / rows[0]['ir'][1]:.2f}×")
    if baseline_of := args.baseline:
        for cores in ("", "-1"):
            speedup = rows[1][f"base{cores}"][0] / rows[1][f"ir{cores}"][0]
            where = "1 core" if cores else "all cores"
            print(f"speed-up over {baseline_of} at {args.events:,} events, {where}: {speedup:.2f}×")


@contextlib.contextmanager
def _worktree(rev: str | None) -> Iterator[Path | None]:
    """A temporary `git worktree` of `rev` (removed afterwards), or None."""
    if not rev:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="ir-tl-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), rev], check=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()

"""Exports: JSONL, Timesketch-ready JSONL and CSV, and a human table.

Text from the agent's world is hostile in every format: JSON lines escape every control and bidi
character, CSV cells have controls escaped and formulas quoted, table and summary lines are
neutralised for a terminal.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any, TextIO

from ir.core.text import csv_cell, json_safe, neutralise
from ir.timeline.model import Event, dumps, iso
from ir.timeline.untimed import AFTER_TIMED

FORMATS = ("table", "jsonl", "timesketch", "timesketch-csv")
TIMESKETCH_FIELDS = (
    "message",
    "datetime",
    "timestamp",
    "timestamp_desc",
    "source",
    "kind",
    "action",
    "target",
    "actor",
    "tags",
    "raw_ref",
    "tool_name",
    "call_id",
)
DESC = {
    "tool_call": "Tool call",
    "tool_result": "Tool result",
    "tool_list": "Tool offered",
    "model_call": "Model call",
    "cloud_api_call": "Cloud API call",
    "container_log": "Container log line",
    "net_egress": "Network egress",
    "file_access": "File access",
}


def timesketch_row(e: Event) -> dict[str, Any]:
    """The fields Timesketch requires (`message`, `datetime`, `timestamp` µs, `timestamp_desc`) and context."""
    tool = e.get("tool") or {}
    return {
        "message": e["message"] or e["action"],
        "datetime": iso(e["ts"]),
        "timestamp": e["ts"] // 1000,
        "timestamp_desc": _desc(e),
        "source": e["source"],
        "kind": e["kind"],
        "action": e["action"],
        "target": e.get("target") or "",
        "actor": ",".join(f"{k}={v}" for k, v in sorted((e.get("actor") or {}).items())),
        "tags": ",".join(t["tag"] for t in e["tags"]),
        "raw_ref": e["raw_ref"],
        "tool_name": tool.get("name") or "",
        "call_id": tool.get("call_id") or "",
    }


def csv_row(e: Event) -> dict[str, Any]:
    """The Timesketch row with every text made safe for a CSV cell."""
    return {k: csv_cell(v) if isinstance(v, str) else v for k, v in timesketch_row(e).items()}


def csv_header() -> str:
    """The Timesketch CSV header line, as csv.DictWriter writes it."""
    buffer = io.StringIO()
    csv.DictWriter(buffer, fieldnames=TIMESKETCH_FIELDS).writeheader()
    return buffer.getvalue()


def _desc(e: Event) -> str:
    """What the timestamp means; for an untimed event, that it was placed, and how."""
    desc = str(DESC.get(e["kind"], e["kind"]))
    if e.get("untimed"):
        return f"untimed, placed {e.get('placed') or AFTER_TIMED} ({desc})"
    return desc


def write(events: Iterable[Event], out: TextIO, fmt: str) -> int:
    """Write every event in `fmt`; returns how many."""
    count = 0
    if fmt == "timesketch-csv":
        writer = csv.DictWriter(out, fieldnames=TIMESKETCH_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for e in events:
            writer.writerow(csv_row(e))
            count += 1
        return count
    for e in events:
        if fmt == "jsonl":
            out.write(json_safe(dumps({**e, "datetime": iso(e["ts"])}).decode()) + "\n")
        elif fmt == "timesketch":
            out.write(json_safe(dumps(timesketch_row(e)).decode()) + "\n")
        else:
            out.write(table_line(e) + "\n")
        count += 1
    return count


def table_line(e: Event) -> str:
    """One event as a fixed-width line for a terminal."""
    when = iso(e["ts"])[:23].replace("T", " ") + "Z"
    tags = f"  [{', '.join(t['tag'] for t in e['tags'])}]" if e["tags"] else ""
    assumed = " (zone assumed UTC)" if e.get("assumed_utc") else ""
    if e.get("untimed"):
        when, assumed = (
            "untimed".ljust(24),
            f" (untimed: no time in the source, placed {e.get('placed') or AFTER_TIMED})",
        )
    message = neutralise(str(e["message"] or e["action"]))
    if len(message) > 140:
        message = message[:139] + "…"
    return neutralise(f"{when}  {e['kind']:<14} {neutralise(e['source'])[:28]:<28} {message}{tags}{assumed}")


def summary_text(summary: dict[str, Any]) -> str:
    """The summary for people: every line neutralised (names, hosts, keys and paths come from the logs)."""
    skipped = len(summary["skipped_files"])
    lines = [
        f"{summary['events']} events from {len(summary['sources'])} sources"
        + (f"; {skipped} file{'s' * (skipped != 1)} skipped (not read, see below)" if skipped else "")
    ]
    for src in summary["sources"]:
        bad = f", {src['bad']} bad" if src["bad"] else ""
        assumed = f", {src['assumed_utc']} times without zone (assumed UTC)" if src["assumed_utc"] else ""
        lines.append(f"  {neutralise(src['path'])} ({src['format']}): {_n(src['events'], 'event')}{bad}{assumed}")
        lines.extend(f"    bad: {neutralise(ref)}" for ref in src["bad_refs"][:5])
    for path in summary["skipped_files"]:
        lines.append(f"  skipped {neutralise(path)}")
    for name, placed in (summary.get("untimed") or {}).items():
        lines.append(
            f"  untimed: {placed['events']} events of {neutralise(name)} have no time in the source, "
            f"kept in their order and placed {placed['basis']} ({placed['placed_at']})"
        )
    for name, offset in summary["clock_offsets"].items():
        state = "applied" if offset["applied"] else "not applied (under 1 s)"
        lines.append(
            f"  clock offset of {neutralise(name)}: {offset['offset_ns'] / 1e9:+.3f}s from {offset['pairs']} "
            f"pairs ({offset['basis']}), {state}"
        )
    first, injection = summary["first_suspicious"], summary["likely_injection"]
    if first:
        why = "; ".join(t["why"] for t in first["tags"])
        lines.append(f"first suspicious event: {_at(first)} {neutralise(first['message'])[:160]} — {neutralise(why)}")
    if injection:
        lines.append(
            f"likely injection source: {_at(injection)} {neutralise(injection['message'])[:160]} "
            f"({injection['raw_ref']})"
        )
    for read in summary["read"][:10]:
        lines.append(f"read: {_at(read)} {neutralise(str(read['what']))[:120]}")
    for sent in summary["sent_to"][:10]:
        lines.append(f"sent to: {_at(sent)} {neutralise(sent['host'])} via {neutralise(str(sent['how']))}")
    for key, places in summary["credentials_used"].items():
        where = "; ".join(f"{p['ip']} ({neutralise(p['user_agent'])[:40]}) ×{p['events']}" for p in places)
        lines.append(f"credential {key} used from: {where}")
    for pair in summary["tool_calls_causing_cloud_calls"][:10]:
        lines.append(f"tool call {pair['tool_call']} at {pair['tool_ts']} caused {pair['cloud']} at {pair['cloud_ts']}")
    if summary["by_tag"]:
        lines.append("tags: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["by_tag"].items())))
    return "\n".join(neutralise(line) for line in lines)


def _n(count: int, word: str) -> str:
    """`1 event`, `2 events`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _at(item: dict[str, Any]) -> str:
    """When a summary item happened, or `untimed` when its source gave no time."""
    return "untimed" if item.get("untimed") else str(item["ts"])

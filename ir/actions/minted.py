"""`credentials.find_minted`: what a hijacked principal created for itself, walked to a fixed point.

From CloudTrail (delivery files `{"Records": [...]}`, gzipped or not, JSON lines, LookupEvents
output; or the LookupEvents API when the endpoint has it), every successful CreateAccessKey,
CreateUser, CreateRole, CreateLoginProfile and UpdateLoginProfile made by a controlled principal
(or with a key it minted) makes the target controlled too; the walk repeats until no new
principal appears. The result feeds the containment steps that follow.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from ir.actions.credentials import PrincipalParams, targets
from ir.core.action import Action, Check, Plan, StepContext
from ir.core.errors import BackendUnavailable, IrError, TransientError
from ir.core.minting import walk


def read_cloudtrail(path: Path) -> Iterator[dict[str, Any]]:
    """Every record in a CloudTrail file or folder, whatever its packaging; bad files are skipped."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        try:
            raw = file.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
            continue
        try:
            documents = [json.loads(text)]
        except ValueError:
            documents = []
            for line in text.splitlines():
                try:
                    documents.append(json.loads(line))
                except ValueError:
                    continue
        for doc in documents:
            yield from _records(doc)


def _records(doc: Any) -> Iterator[dict[str, Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
        yield from (r for r in doc["Records"] if isinstance(r, dict))
    elif isinstance(doc, dict) and isinstance(doc.get("Events"), list):
        for event in doc["Events"]:
            if isinstance(event, dict) and isinstance(event.get("CloudTrailEvent"), str):
                try:
                    yield json.loads(event["CloudTrailEvent"])
                except ValueError:
                    continue
    elif isinstance(doc, dict) and "eventName" in doc:
        yield doc


class MintedParams(PrincipalParams):
    """Where to look, and which principals to start from (default: the agent's)."""

    paths: list[str] = Field(default_factory=list)
    """CloudTrail files or folders, relative to the workspace; default: the agent's `cloudtrail` log sources."""
    lookup: bool = True
    """Also ask the CloudTrail LookupEvents API (skipped with a note where the endpoint lacks it)."""
    since: str = "1970-01-01T00:00:00Z"
    """Ignore events before this time (ISO 8601)."""


class FindMinted(Action[MintedParams]):
    """Find the keys, users, roles and console passwords the agent's principals created."""

    name = "credentials.find_minted"
    summary = "Walk CloudTrail for keys, users, roles and logins the agent's principals created."
    Params = MintedParams
    mutates = False
    discovers = True

    def _paths(self, ctx: StepContext, params: MintedParams) -> list[Path]:
        named = params.paths or [s.path for s in ctx.agent.logs if s.type == "cloudtrail" and s.path]
        return [ctx.workspace / p for p in named if p]

    def _records(self, ctx: StepContext, params: MintedParams) -> tuple[list[dict[str, Any]], list[str]]:
        records: list[dict[str, Any]] = []
        notes: list[str] = []
        for path in self._paths(ctx, params):
            if not path.exists():
                notes.append(f"{path}: not found")
                continue
            records.extend(r for r in read_cloudtrail(path) if str(r.get("eventTime", "")) >= params.since)
        if params.lookup:
            cloud = ctx.credentials()
            for kind, name in targets(ctx, params, ("user",)):
                try:
                    records.extend(cloud.lookup_events(name, params.since))
                except (BackendUnavailable, TransientError):
                    raise  # an outage is not "nothing minted": the step fails (and is retried), never guesses
                except IrError as exc:
                    notes.append(f"LookupEvents for {kind} {name} unavailable: {exc}")
        return records, notes

    def plan(self, ctx: StepContext, params: MintedParams) -> Plan:
        paths = ", ".join(str(p) for p in self._paths(ctx, params)) or "no files"
        return Plan(
            notes=(f"reads CloudTrail from {paths}{' and LookupEvents' if params.lookup else ''}; changes nothing",)
        )

    def _find(self, ctx: StepContext, params: MintedParams) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
        records, notes = self._records(ctx, params)
        seeds = targets(ctx, params)
        found = walk(records, {n for k, n in seeds if k == "user"}, {n for k, n in seeds if k == "role"})
        return found, records, notes

    def execute(self, ctx: StepContext, params: MintedParams) -> Mapping[str, Any]:
        found, records, notes = self._find(ctx, params)
        for note in notes:
            ctx.output(note)
        for item in found["found_by"]:
            ctx.output(f"{item['eventTime']} {item['by']} {item['eventName']} {item['target']}")
        ctx.output(
            f"{len(records)} CloudTrail records read; minted: {len(found['users'])} users, "
            f"{len(found['roles'])} roles, {sum(len(v) for v in found['access_keys'].values())} access keys"
        )
        return {**found, "records": len(records), "notes": notes}

    def verify(self, ctx: StepContext, params: MintedParams) -> Check:
        """Read CloudTrail again: `outputs` is what a run of the step would find now."""
        found, records, notes = self._find(ctx, params)
        detail = f"{len(records)} CloudTrail records read; minted users: {', '.join(found['users']) or 'none'}"
        return Check(True, detail, {**found, "records": len(records), "notes": notes})

"""`ir run … --attach`: a second containment request joins the agent's open case as a note.

Alert storms ask for the same containment many times. Instead of a second run, the request is
journalled in the case already open for the agent: a `note` record whose data carries `attached:
{playbook, params, actor, request}`. When a live run holds that case (its journal lock is taken),
the note is handed over through a spool file, `cases/<id>/attached/<request>.json` (written to a
temporary name, then renamed, so it is whole or absent). The holder journals spool files at every
step boundary, when it finishes, and once more right after it frees the case (`collect_late`: a note
spooled after its last look, while it was signing and closing, would otherwise wait for the next
resume); `ir resume` does so at its first step boundary. An attacher that spooled tries once more to
take the case, and one that journalled its own note looks at the spool after it frees the case
(another attacher may have spooled meanwhile). Every side publishes, then looks, so one of them
always sees the note. The `request` id makes the hand-over idempotent: a spool file whose note is
already in the journal is removed. Whoever journals a note outside a run signs the new head, as `ir
note` does; a note the live holder journals is signed by the holder's end-of-run checkpoint. A spool
file nobody has journalled (a holder killed as it ended) is named by `ir verify`; the next resume
journals it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ir.core.agent_lock import holder, open_case
from ir.core.errors import CaseLocked
from ir.core.journal import JOURNAL_FILE, Journal, Record
from ir.core.records import Kind
from ir.core.signing_journal import case_id_of, sign_head
from ir.core.signing_trust import Trust, case_trust

SPOOL_DIR = "attached"
SPOOL_LIMIT = 65536
"""Bytes a spooled note may take; a bigger file is not one we wrote (it is set aside)."""


@dataclass(frozen=True)
class Attached:
    """Where an attached request went: the case, and the journal seq (None while spooled)."""

    case_dir: Path
    seq: int | None
    unsigned: str | None = None
    """Why the head after the note is not signed, when this process journalled it and could not sign."""


def attach(
    *,
    workspace: Path,
    cases_dir: Path,
    agent_id: str,
    playbook_id: str,
    params: Mapping[str, str],
    actor: str,
    key: Path | None = None,
    trust: Trust | None = None,
) -> Attached | None:
    """Journal the request in the agent's open case (held or unfinished); None when there is none.

    A note journalled here is followed by a checkpoint signed with `actor`'s key (`key`, else the
    usual lookup) against `trust` (by default the workspace holding the case).
    """
    target: Path | None = None
    held = holder(workspace, agent_id)
    name = (held or {}).get("case", "")
    if name and Path(name).name == name and not name.startswith(".") and (cases_dir / name / JOURNAL_FILE).is_file():
        target = cases_dir / name
    if target is None:
        target = open_case(cases_dir, agent_id, playbook_id)
    if target is None:
        return None
    request = secrets.token_hex(8)
    data: dict[str, Any] = {
        "by": actor,
        "text": (
            f"a second containment ({playbook_id} on {agent_id}) was requested by {actor}; "
            "it joined this open case instead of starting a second run"
        ),
        "attached": {"playbook": playbook_id, "params": dict(params), "actor": actor, "request": request},
    }
    return _deliver(target, Kind.NOTE, data, request, trust, actor, key)


def correlate(
    *,
    workspace: Path,
    cases_dir: Path,
    agent_id: str,
    playbook_id: str,
    alert: Mapping[str, Any],
    request: str,
    actor: str,
    text: str,
    key: Path | None = None,
    trust: Trust | None = None,
    closed_too: bool = False,
) -> Attached | None:
    """Journal an `alert.correlated` record in the agent's open case of `playbook_id` (or, with
    `closed_too`, its latest case of it, for a `resolved` notification); None when there is none.

    `request` makes it idempotent: an alert already journalled (or spooled) there is not again.
    """
    held = holder(workspace, agent_id)
    name = (held or {}).get("case", "")
    target: Path | None = None
    ours = f"-{agent_id}-{playbook_id}-" in name and Path(name).name == name and not name.startswith(".")
    if ours and (cases_dir / name / JOURNAL_FILE).is_file():
        target = cases_dir / name
    target = target or open_case(cases_dir, agent_id, playbook_id)
    if target is None and closed_too:
        target = latest_case(cases_dir, agent_id, playbook_id)
    if target is None:
        return None
    data = {"by": actor, "text": text, "alert": dict(alert), "request": request}
    return _deliver(target, Kind.ALERT_CORRELATED, data, request, trust, actor, key)


def latest_case(cases_dir: Path, agent_id: str, playbook_id: str) -> Path | None:
    """The agent's newest case of `playbook_id`, finished or not."""
    marker = f"-{agent_id}-{playbook_id}-"
    if not cases_dir.is_dir():
        return None
    named = sorted((p for p in cases_dir.iterdir() if marker in p.name and (p / JOURNAL_FILE).is_file()), reverse=True)
    return named[0] if named else None


def _deliver(
    target: Path, kind: str, data: dict[str, Any], request: str, trust: Trust | None, actor: str, key: Path | None
) -> Attached:
    """Append to the case's journal (and sign the head), or spool for the live run holding it."""
    try:
        with Journal(target).open() as journal:
            done = _requests(journal.records)
            if request in done:
                attached = Attached(target, done[request])
            else:
                seq = journal.append(kind, data).seq
                attached = Attached(target, seq, _sign(journal, target, trust, actor, key))
    except CaseLocked:
        pass
    else:
        collect_late(target, trust, actor, key)  # what others spooled while we held the case
        return attached
    spool = target / SPOOL_DIR
    spool.mkdir(exist_ok=True)
    tmp = spool / f".{request}.tmp"
    tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(tmp, spool / f"{request}.json")
    # the holder may have freed the case meanwhile: then nobody else would pick it up soon
    return Attached(target, None, collect_late(target, trust, actor, key))


def collect_late(case_dir: Path, trust: Trust | None, actor: str, key: Path | None) -> str | None:
    """After freeing the case (a run, or an attacher that journalled its own note): journal what
    others spooled while it was held, signing the head as `actor`, until the spool is empty or
    another holder has the case (that holder looks again when it frees it). Returns why the last
    head it journalled is unsigned, if it is."""
    spool = case_dir / SPOOL_DIR
    unsigned = None
    while spool.is_dir() and any(spool.glob("*.json")):
        try:
            with Journal(case_dir).open() as journal:
                if collect(case_dir, journal.records, journal.append):
                    unsigned = _sign(journal, case_dir, trust, actor, key)
        except CaseLocked:
            break
    return unsigned


def spooled_notes(case_dir: Path, live_pid: int | None = None) -> list[str]:
    """One line per attach request spooled but not journalled: waiting for the live run `live_pid`,
    or left when the holder ended before it collected it."""
    spool = case_dir / SPOOL_DIR
    if not spool.is_dir():
        return []
    fate = (
        f"the live run pid {live_pid} journals it at its next step"
        if live_pid
        else "spooled as the run ended; `ir resume` journals it"
    )
    return [f"{path}: an attached request not yet in the journal ({fate})" for path in sorted(spool.glob("*.json"))]


def _sign(journal: Journal, case_dir: Path, trust: Trust | None, actor: str, key: Path | None) -> str | None:
    """Checkpoint the head after a note this process journalled; why not, when it could not."""
    signed = sign_head(
        journal, case_id_of(journal.records, case_dir), trust or case_trust(case_dir), actor, key, "note"
    )
    return signed.unsigned


def collect(case_dir: Path, records: list[Record], write: Callable[[str, Mapping[str, Any]], Any]) -> int:
    """Journal every spooled attach note of the case (through `write`), then remove its file."""
    spool = case_dir / SPOOL_DIR
    if not spool.is_dir():
        return 0
    done = _requests(records)
    count = 0
    for path in sorted(spool.glob("*.json")):
        data = _load(path)
        if data is None:
            os.replace(path, path.with_suffix(".rejected"))
            continue
        kind, request = _kind_and_request(data)
        if request not in done:
            write(kind, data)
            count += 1
        path.unlink()
    return count


def _kind_and_request(data: Mapping[str, Any]) -> tuple[str, str]:
    if "alert" in data:
        return Kind.ALERT_CORRELATED, str(data["request"])
    return Kind.NOTE, str(data["attached"].get("request"))


def _requests(records: list[Record]) -> dict[str, int]:
    """Request id → journal seq of every attached note and correlated alert already journalled."""
    done: dict[str, int] = {}
    for r in records:
        if r.type == Kind.NOTE and isinstance(r.data.get("attached"), dict):
            done[str(r.data["attached"].get("request"))] = r.seq
        elif r.type == Kind.ALERT_CORRELATED and isinstance(r.data.get("request"), str):
            done[str(r.data["request"])] = r.seq
    return done


def _load(path: Path) -> dict[str, Any] | None:
    """A spool file's note data, or None when it is not one (it is set aside, not journalled)."""
    try:
        if path.stat().st_size > SPOOL_LIMIT:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        isinstance(data, dict)
        and set(data) == {"by", "text", "alert", "request"}
        and isinstance(data["by"], str)
        and isinstance(data["text"], str)
        and isinstance(data["alert"], dict)
        and isinstance(data["request"], str)
    ):
        return data
    if not (
        isinstance(data, dict)
        and set(data) == {"by", "text", "attached"}
        and isinstance(data["by"], str)
        and isinstance(data["text"], str)
        and isinstance(data["attached"], dict)
    ):
        return None
    return data

"""One active containment per agent: a lock held for the whole of a run or resume on an agent.

The lock is `fcntl.flock` on `<workspace>/.ir/locks/<agent-id>.lock`. Whoever holds it writes
who they are into the file (pid, case, actor, start time, host) *after* locking, so a second
`ir run` or `ir resume` on the agent is refused with one line naming the holder and its case
(`AgentBusy`, exit 4) instead of acting a second time (a secret rotated twice).

Why flock and not "the file exists": the kernel drops a flock when the process holding it dies,
however it dies — SIGKILL, OOM, a power cut ends it with the machine. So the file alone means
nothing: a file left by a killed holder is not held, the next run takes the lock, and its stale
metadata is overwritten (and reported to the caller once, for the journal). A holder that ends
normally empties the file before letting go, so leftover metadata always means a holder died. The metadata is
only believed while the flock is held, and even then only to name the holder in a message.
flock is per open file description and works on local filesystems; a workspace on NFS should
not be shared by two machines running `ir` at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Any

from ir.core.case import RunStatus, load_state
from ir.core.errors import AgentBusy
from ir.core.journal import JOURNAL_FILE, utc_now

LOCKS_DIR = Path(".ir") / "locks"
OPEN_STATUSES = frozenset({RunStatus.AWAITING_APPROVAL, RunStatus.INTERRUPTED, RunStatus.RUNNING})
"""A case in one of these is not finished: `ir resume` continues it."""
_META_LIMIT = 4096
_TAIL = 65536


class AgentLock:
    """The lock of one agent in one workspace; use as `with AgentLock(...).hold(case=…, actor=…):`."""

    def __init__(self, workspace: Path, agent_id: str) -> None:
        self.path = workspace / LOCKS_DIR / f"{agent_id}.lock"
        self.agent_id = agent_id
        self._fd: int | None = None
        self._keep = b""
        self.stale: dict[str, str] | None = None
        """What a dead holder's file said, when this lock was taken over from one (not trusted)."""

    def acquire(self, *, case: str, actor: str) -> AgentLock:
        """Take the lock without waiting and record who holds it; AgentBusy when someone does."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_meta(fd)
            os.close(fd)
            raise AgentBusy(f"agent {self.agent_id} is busy: {describe(holder)}") from None
        self.stale = _read_meta(fd) or None
        self._keep = os.pread(fd, _META_LIMIT, 0) if self.stale else b""
        meta = {"pid": str(os.getpid()), "case": case, "actor": actor, "since": utc_now(), "host": socket.gethostname()}
        blob = json.dumps(meta, sort_keys=True).encode() + b"\n"
        os.pwrite(fd, blob, 0)  # write, then cut: a reader never sees an empty file while we hold it
        os.ftruncate(fd, len(blob))
        self._fd = fd
        return self

    def recorded_stale(self) -> dict[str, str]:
        """The stale metadata, once, for the journal: after this, release need not keep it."""
        stale, self.stale, self._keep = self.stale or {}, None, b""
        return stale

    def release(self) -> None:
        """Let go of the lock, emptied first — only a holder that died leaves its metadata behind —
        unless it took over a dead holder's file and journalled nothing about it (a refused run)."""
        if self._fd is not None:
            os.pwrite(self._fd, self._keep, 0)
            os.ftruncate(self._fd, len(self._keep))
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> AgentLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def holder(workspace: Path, agent_id: str) -> dict[str, str] | None:
    """Who holds the agent's lock right now (its metadata), or None when nobody does."""
    path = workspace / LOCKS_DIR / f"{agent_id}.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_meta(fd)
    else:
        return None  # not held: whatever the file says is stale
    finally:
        os.close(fd)


def describe(meta: dict[str, str]) -> str:
    """`case X is being run by alice (pid 12, host h, since T)` from a holder's metadata."""
    if not meta:
        return "another ir process holds it (it has not written who it is yet)"
    where = ", ".join(f"{k} {meta[k]}" for k in ("pid", "host", "since") if meta.get(k))
    case = f"case {meta['case']}" if meta.get("case") else "a new case"
    return f"{case} is being run by {meta.get('actor') or 'someone'} ({where}); wait for it, or add to it with --attach"


def open_case(cases_dir: Path, agent_id: str, playbook_id: str) -> Path | None:
    """The agent's unfinished case of `playbook_id` (awaiting approval or interrupted), if any."""
    marker = f"-{agent_id}-{playbook_id}-"
    if not cases_dir.is_dir():
        return None
    named = sorted((p for p in cases_dir.iterdir() if marker in p.name), reverse=True)  # cheap: by case id
    for path in named:
        if not (path / JOURNAL_FILE).is_file() or _ended(path / JOURNAL_FILE):
            continue
        state = load_state(path)  # the whole journal decides
        book = state.started.get("playbook", {}).get("id")
        agent = state.started.get("agent", {}).get("id")
        if agent == agent_id and book == playbook_id and state.run_status in OPEN_STATUSES:
            return path
    return None


def refuse_second_case(cases_dir: Path, agent_id: str, playbook_id: str) -> None:
    """AgentBusy when the agent already has an unfinished case of this playbook."""
    found = open_case(cases_dir, agent_id, playbook_id)
    if found is not None:
        raise AgentBusy(
            f"agent {agent_id} already has an open {playbook_id} case {found.name}: "
            f"continue it with `ir resume {found.name}`, or add to it with `ir run {playbook_id} "
            f"--agent {agent_id} --attach`"
        )


def _ended(journal: Path) -> bool:
    """Whether the journal's last run record says the run ended for good (read from its tail only,
    so a workspace with hundreds of cases of the agent does not slow every new run down)."""
    try:
        with journal.open("rb") as handle:
            handle.seek(max(0, journal.stat().st_size - _TAIL), 0)
            lines = handle.read().splitlines()
    except OSError:
        return False
    for line in reversed(lines):
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn last line, or the cut first line of the tail
        kind = rec.get("type") if isinstance(rec, dict) else None
        if kind == "run.aborted":
            return True
        if kind == "run.finished":
            return str((rec.get("data") or {}).get("status")) not in OPEN_STATUSES
        if isinstance(kind, str) and kind.startswith("run."):
            return False
    return False


def _read_meta(fd: int) -> dict[str, str]:
    """The metadata in a lock file, as strings; {} when empty or unreadable (never trusted)."""
    try:
        raw = os.pread(fd, _META_LIMIT, 0)
        data: Any = json.loads(raw.decode("utf-8", errors="replace") or "{}")
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v)[:200] for k, v in data.items() if k in ("pid", "case", "actor", "since", "host")}

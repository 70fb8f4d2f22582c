"""Whether a live `ir` run is writing a case right now, proven from the kernel's lock table.

Records after a case's last checkpoint are an unsigned tail unless the run writing them is
still alive (its end-of-run checkpoint will sign them). Any process can hold a case's `.lock`
(`flock cases/C/.lock sleep 30`), so holding it proves nothing. A live run is: the agent lock
of the case's agent is held and its metadata names this case and a pid, and that pid holds
both the agent lock and the case lock in `/proc/locks` (Linux). Where that cannot be shown
(another OS, another host), the run is not taken as live: the tail is reported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ir.core.agent_lock import LOCKS_DIR, holder
from ir.core.journal import LOCK_FILE, Record
from ir.core.records import Kind

PROC_LOCKS = Path("/proc/locks")


def live_run_pid(case_dir: Path, records: Sequence[Record]) -> int | None:
    """The pid of the live `ir` run or resume writing `case_dir`, or None when none is proven."""
    started = records[0].data if records and records[0].type == Kind.RUN_STARTED else {}
    agent = started.get("agent")
    agent_id = agent.get("id") if isinstance(agent, dict) else None
    workspace = _workspace_of(case_dir)
    if not isinstance(agent_id, str) or not agent_id or workspace is None:
        return None
    meta = holder(workspace, agent_id) if Path(agent_id).name == agent_id else None
    if not meta or meta.get("case") != case_dir.resolve().name or not meta.get("pid", "").isdigit():
        return None
    pid = int(meta["pid"])
    agent_lock = workspace / LOCKS_DIR / f"{agent_id}.lock"
    held = _flocks_of(pid)
    return pid if _identity(case_dir / LOCK_FILE) in held and _identity(agent_lock) in held else None


def _workspace_of(case_dir: Path) -> Path | None:
    for folder in case_dir.resolve().parents:
        if (folder / "ir.yaml").is_file():
            return folder
    return None


def _identity(path: Path) -> str:
    """`MAJOR:MINOR:INODE` as /proc/locks prints a file (hex device numbers)."""
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"


def _flocks_of(pid: int) -> set[str]:
    """The files `pid` holds a granted flock on (waiters, marked `->`, are not holders)."""
    try:
        lines = PROC_LOCKS.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return set()
    held = set()
    for line in lines:
        parts = line.split()
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[4] == str(pid):
            held.add(parts[5])
    return held

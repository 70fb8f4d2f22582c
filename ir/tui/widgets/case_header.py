"""The case at a glance, on top of every case screen: agent, case id, playbook and version, run
status, time since the case opened and since the first alert, and who holds the case now.

Mount it with `yield CaseHeader(case_dir)` (None before a new run has a case: call
`show_case(case_dir)` once it has one); call `refresh_case()` when the journal changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from ir.core.agent_lock import holder
from ir.core.case import CaseState, RunStatus, load_state
from ir.core.journal import JOURNAL_FILE, read
from ir.core.text import neutralise
from ir.report.times import case_times


@dataclass(frozen=True)
class Glance:
    """What the header shows about one case."""

    agent: str
    case: str
    playbook: str
    status: str
    opened: datetime | None
    first_alert: datetime | None
    held_by: str


def _when(ts: str | None) -> datetime | None:
    if ts is None:
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def held_by(workspace: Path | None, state: CaseState) -> str:
    """Who holds the case: the agent lock's holder when it names this case, or nobody.

    `load_state` already tells a run nobody holds (killed) from one in progress; only then is the
    agent lock read for a name (its metadata is a claim, shown as such).
    """
    if state.run_status != RunStatus.RUNNING:
        return "nobody"
    meta = holder(workspace, state.agent_id) if workspace else None
    if meta and meta.get("case") == state.case_id:
        return f"{meta.get('actor') or 'someone'} (pid {meta.get('pid', '?')}, since {meta.get('since', '?')})"
    return "an ir process (the case is locked)"


def glance(case_dir: Path, workspace: Path | None) -> Glance:
    """Read the case once for the header."""
    state = load_state(case_dir)
    times = case_times(read(case_dir / JOURNAL_FILE).records, ())  # the report's clock: the header agrees with it
    book = f"{state.run.playbook.id} {state.run.playbook.version}".strip() if state.run else "?"
    return Glance(
        agent=state.agent_id,
        case=case_dir.name,
        playbook=book,
        status=str(state.run_status),
        opened=_when(times.opened),
        first_alert=_when(times.first_alert),
        held_by=held_by(workspace, state),
    )


def since(then: datetime | None, now: datetime) -> str:
    """`3d 04h`, `2h 05m`, `4m 10s`, `12s` — or `—` when there is no time to count from."""
    if then is None:
        return "—"
    seconds = max(0, int((now - then).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


STATUS_STYLE = {
    "succeeded": "bold green",
    "failed": "bold red",
    "errored": "bold red",
    "incomplete": "bold red",
    "awaiting_approval": "bold yellow",
    "interrupted": "bold yellow",
    "running": "bold cyan",
}


class CaseHeader(Static):
    """Agent · case · playbook version · status; opened / first alert ago; who holds it."""

    DEFAULT_CSS = """
    CaseHeader {
        height: auto;
        padding: 0 1;
        background: $boost;
    }
    """

    clock: Callable[[], datetime] = staticmethod(lambda: datetime.now(UTC))
    """Now (tests fix it, so a snapshot does not depend on when it was taken)."""

    def __init__(self, case_dir: Path | None, *, id: str | None = "case-header") -> None:
        super().__init__(id=id)
        self.case_dir = case_dir
        self.glance: Glance | None = None

    def show_case(self, case_dir: Path) -> None:
        """The run now has a case: show it."""
        self.case_dir = case_dir
        self.refresh_case()

    def on_mount(self) -> None:
        self.refresh_case()
        self.set_interval(15, self._tick)  # the elapsed times move; the journal is not read again for them

    def refresh_case(self) -> None:
        """Read the case again (its status or holder changed)."""
        if self.case_dir is None:
            self.update(Text("no case yet: the run has not started"))
            return
        workspace = getattr(self.app, "workspace", None)
        self.glance = glance(self.case_dir, workspace.root if workspace else None)
        self._tick()

    def _tick(self) -> None:
        if self.glance is None:
            return
        g, now = self.glance, self.clock()
        text = Text()
        text.append(neutralise(g.agent), style="bold")
        text.append(f" · {neutralise(g.playbook)} · ")
        text.append(g.status, style=STATUS_STYLE.get(g.status, "bold"))
        text.append(" · held by ")
        text.append(neutralise(g.held_by), style="bold" if g.held_by != "nobody" else "")
        text.append(f"\ncase {g.case} · opened {since(g.opened, now)} ago · first alert {since(g.first_alert, now)}")
        text.append(" ago" if g.first_alert else "")
        self.update(text)

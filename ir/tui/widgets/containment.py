"""The containment panel: each credential and principal of the agent (minted ones too) and its
container, with its state now as the journal tells it — live, inactive, denied, follow-up with
owner — and where that state comes from (a step's outputs, a follow-up, the run's end check).

Everything is derived from the case reader (`CaseState`): step outputs, follow-ups and
`finished.still_live`. Nothing is read from the world here: a row says what the journal proves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from ir.core.case import CaseState, StepStatus, load_state, pinned_playbook
from ir.core.errors import IrError
from ir.core.text import neutralise

LIVE, INACTIVE, DENIED, FOLLOW_UP = "live", "inactive", "denied", "follow-up"
STYLE = {LIVE: "bold red", INACTIVE: "green", DENIED: "green", FOLLOW_UP: "yellow"}


@dataclass
class Row:
    """One thing the agent held: what it is, its state now, and where that state comes from."""

    what: str
    state: str = LIVE
    source: str = "no step has acted on it"
    notes: list[str] = field(default_factory=list)

    def set(self, state: str, source: str) -> None:
        """A later fact wins: the journal is read in order."""
        self.state, self.source = state, source


SHORT = (("aws.iam_user:", "user "), ("aws.iam_role:", "role "), ("aws.secret:", "secret "), ("http.token:", "token "))
"""How a row names what it is about on screen (the ids stay whole; the type prefix is shortened)."""


def short(what: str) -> str:
    """`user agent-x` for `aws.iam_user:agent-x`."""
    for long, brief in SHORT:
        if what.startswith(long):
            return brief + what.removeprefix(long)
    return what


def _user(name: str) -> str:
    return f"aws.iam_user:{name}"


def _role(name: str) -> str:
    return f"aws.iam_role:{name}"


class Rows:
    """The rows, keyed by what they name, in the order they were first met."""

    def __init__(self) -> None:
        self.by_key: dict[str, Row] = {}

    def get(self, key: str, what: str | None = None) -> Row:
        """The row for `key`, made (as live, untouched) when first met."""
        if key not in self.by_key:
            self.by_key[key] = Row(what or key)
        return self.by_key[key]


def _outputs(state: CaseState, step: str) -> Mapping[str, Any] | None:
    """A step's outputs when it ran to an end (succeeded, or failed for some targets)."""
    st = state.steps.get(step)
    if st is None or st.status not in (StepStatus.SUCCEEDED, StepStatus.FAILED):
        return None
    return st.outputs


def _inventory(rows: Rows, agent: Mapping[str, Any]) -> None:
    """A row for each credential of the agent as the inventory described it when the run started."""
    for ref in agent.get("credentials") or []:
        kind = str(ref.get("type", "?"))
        if kind == "aws.iam_user" and ref.get("user_name"):
            rows.get(_user(str(ref["user_name"])))
        elif kind == "aws.iam_role" and ref.get("role_name"):
            rows.get(_role(str(ref["role_name"])))
        elif kind == "aws.secret" and ref.get("secret_id"):
            rows.get(f"aws.secret:{ref['secret_id']}")
        elif kind == "http.token" and ref.get("name"):
            rows.get(f"http.token:{ref['name']}")


def _minted(rows: Rows, step: str, out: Mapping[str, Any]) -> None:
    """Rows for the principals and keys a `credentials.find_minted` step found."""
    for user in out.get("users") or []:
        rows.get(_user(user), f"{_user(user)} (minted)")
    for role in out.get("roles") or []:
        rows.get(_role(role), f"{_role(role)} (minted)")
    for keys in (out.get("access_keys") or {}).values():
        for key in keys:
            rows.get(f"key:{key}", f"key {key} (minted)")


def _apply(rows: Rows, step: str, action: str, out: Mapping[str, Any], prior: Mapping[str, Any]) -> None:
    """What one step's outputs (and the state it recorded before acting) prove about the rows."""
    for keys in (prior.get("keys") or {}).values() if action == "credentials.deactivate_keys" else ():
        for key in keys:
            if isinstance(key, dict) and key.get("key_id"):
                row = rows.get(f"key:{key['key_id']}", f"key {key['key_id']}")
                if key.get("status") != "Active":
                    row.set(INACTIVE, f"{step}: inactive before it ran")
    if action == "credentials.deactivate_keys":
        for user, keys in (out.get("deactivated") or {}).items():
            rows.get(_user(user))
            for key in keys:
                rows.get(f"key:{key}", f"key {key}").set(INACTIVE, f"{step}: deactivated")
    elif action == "credentials.reactivate_keys":
        for keys in (out.get("reactivated") or {}).values():
            for key in keys:
                rows.get(f"key:{key}", f"key {key}").set(LIVE, f"{step}: reactivated")
    elif action == "credentials.deny_all":
        for label in out.get("attached") or []:
            rows.get(label).set(DENIED, f"{step}: {out.get('policy') or 'deny-all'}")
    elif action == "credentials.remove_deny_all":
        for label in out.get("removed") or []:
            rows.get(label).set(LIVE, f"{step}: deny-all lifted")
    elif action == "credentials.revoke_sessions":
        for label in out.get("attached") or []:
            rows.get(label).notes.append(f"{step}: old sessions denied")
    elif action == "credentials.remove_console_access":
        for user in out.get("removed") or []:
            rows.get(_user(user)).notes.append(f"{step}: password removed")
    elif action == "credentials.rotate_secrets":
        for secret in out.get("rotated") or {}:
            rows.get(f"aws.secret:{secret}").set(INACTIVE, f"{step}: rotated")
    elif action == "credentials.revoke_http":
        for name in out.get("revoked") or []:
            rows.get(f"http.token:{name}").set(INACTIVE, f"{step}: revoked at the provider")
    for label, why in (out.get("failed") or {}).items():
        if label in rows.by_key:
            rows.by_key[label].set(LIVE, f"{step} failed: {why}")


def _container(state: CaseState, actions: Mapping[str, str]) -> Row | None:
    """The container's row: frozen, cut off, stopped, thawed — from the container steps' outputs."""
    spec = state.run.agent.get("container") if state.run else None
    if not spec:
        return None
    name = spec.get("name") or spec.get("id") or "?"
    row, said = Row(f"container {name}", LIVE, "no container step has run"), []
    for step, action in actions.items():
        out = _outputs(state, step)
        if out is None or not action.startswith("container."):
            continue
        if "status" in out:  # paused, exited, running: the container's own word for it
            said.append(f"{step}: {out['status']}")
            row.state = LIVE if out["status"] == "running" else str(out["status"])
        if out.get("disconnected") is not None:
            said.append(f"{step}: cut from {', '.join(out['disconnected']) or 'no network'}")
        if out.get("reconnected"):
            said.append(f"{step}: reconnected to {', '.join(out['reconnected'])}")
            row.state = LIVE
    if said:
        row.source = "\n".join(said)
    return row


ACTS_ON = (
    ("key:", "credentials.deactivate_keys"),
    ("aws.iam_user:", "credentials.deny_all"),
    ("aws.iam_role:", "credentials.deny_all"),
    ("aws.secret:", "credentials.rotate_secrets"),
    ("http.token:", "credentials.revoke_http"),
)
"""Which action contains a row of each kind (what an untouched row waits on)."""


def _untouched(state: CaseState, actions: Mapping[str, str], key: str) -> str:
    """Why nothing has acted on a row yet: the step that would, and how it stands."""
    wanted = next((action for prefix, action in ACTS_ON if key.startswith(prefix)), None)
    for step, action in actions.items():
        if action != wanted:
            continue
        st = state.steps.get(step)
        if st is None or st.status == StepStatus.PENDING:
            return f"{step}: never ran"
        if st.skipped is not None:
            who = f"by {st.skipped.by}" if st.skipped.by else "by its condition"
            return f"{step}: skipped {who}: {st.skipped.reason}".rstrip(": ")
        if st.status != StepStatus.SUCCEEDED:
            return f"{step}: {st.status}"
    return "no step has acted on it"


def _rank(key: str) -> int:
    """Users, their keys, roles, secrets, tokens: the order a responder reads them in."""
    order = ("aws.iam_user:", "key:", "aws.iam_role:", "aws.secret:", "http.token:")
    return next((i for i, prefix in enumerate(order) if key.startswith(prefix)), len(order))


def containment_rows(state: CaseState, actions: Mapping[str, str]) -> list[Row]:
    """Every credential, principal and key of the agent (minted ones too), and its container, now.

    `actions` is step id → action of the case's pinned playbook, in playbook order. A later fact
    wins: step outputs in order, then open follow-ups, then what the run's end found still live.
    """
    rows = Rows()
    _inventory(rows, state.run.agent if state.run else {})
    for step, action in actions.items():
        out = _outputs(state, step)
        if out is not None and action == "credentials.find_minted":
            _minted(rows, step, out)
    for step, action in actions.items():
        out = _outputs(state, step)
        if out is not None:
            _apply(rows, step, action, out, state.priors.get(step) or {})
    for follow_up in state.follow_ups:
        for key, row in rows.by_key.items():
            if key in follow_up.what:
                owner = follow_up.owner or "owner unknown"
                row.set(FOLLOW_UP, f"{follow_up.step or 'case'}: follow-up\nowner {owner}")
    for item in state.still_live:
        named = [(k, r) for k, r in rows.by_key.items() if k.removeprefix("key:") in item.what]
        keys = [(k, r) for k, r in named if k.startswith("key:")]  # "user X access key K is Active": the key
        for _key, row in keys or named:
            row.set(LIVE, f"run end check: {item.why or item.what}")
    for key, row in rows.by_key.items():
        if row.source == Row.source:  # the default: nothing above said anything about it
            row.source = _untouched(state, actions, key)
    found = sorted(rows.by_key.items(), key=lambda item: ("(minted)" in item[1].what, _rank(item[0])))
    found_rows = [row for _key, row in found]
    container = _container(state, actions)
    return found_rows + ([container] if container else [])


def case_actions(case_dir: Path, state: CaseState) -> dict[str, str]:
    """Step id → action, from the case's pinned playbook (what the journal names when it cannot be read)."""
    try:
        return {s.id: s.action for s in pinned_playbook(case_dir).playbook.steps}
    except IrError:
        return state.actions


class ContainmentPanel(DataTable[Text]):
    """What the agent held and whether it is contained now, one row each, with the source of that state."""

    DEFAULT_CSS = """
    ContainmentPanel {
        height: auto;
        max-height: 60%;
        border: round $secondary;
    }
    """

    def __init__(self, case_dir: Path, *, id: str | None = "containment") -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.case_dir = case_dir
        self.border_title = "containment now"

    def on_mount(self) -> None:
        self.add_columns("what", "state", "from")
        self.refresh_case()

    def refresh_case(self, state: CaseState | None = None) -> None:
        """Rebuild the rows from the journal (or from a state the caller already read)."""
        if not self.columns:  # not mounted yet: on_mount fills it
            return
        state = state or load_state(self.case_dir)
        self.show(containment_rows(state, case_actions(self.case_dir, state)))

    def show(self, rows: Iterable[Row]) -> None:
        """Show these rows."""
        self.clear()
        for row in rows:
            source = "\n".join([row.source, *row.notes])  # one fact a line: rows grow, not the column
            what, state = Text(neutralise(short(row.what))), Text(row.state, style=STYLE.get(row.state, "green"))
            self.add_row(what, state, Text(neutralise(source, keep_newlines=True)), height=None)

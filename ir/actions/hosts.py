"""`hosts.ansible`: run a playbook from `playbooks/ansible/` against the agent's hosts.

Live output streams into the journal one task result per line; the dry run is Ansible's check
mode; the runner's private data dir is kept inside the case, and every file a run or a verify
writes there is recorded as a derived file (`ir verify` notices a changed artifact). With
`collect: true`, every file the playbook fetched into `ir_collect_dir` becomes evidence named
`host/<host>/<path>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from ir.core.action import Action, ActionParams, Change, Check, Plan, StepContext
from ir.core.errors import BackendError, InputError, PartialFailure
from ir.core.ports import HostRun

Scalar = str | int | float | bool


class AnsibleParams(ActionParams):
    """Which playbook, with which variables, on which hosts."""

    playbook: str = Field(pattern=r"^[A-Za-z0-9_.-]+\.ya?ml$")
    """File name in the workspace's `playbooks/ansible/` folder."""
    vars: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    """Extra variables (names and paths only: they are journalled, never put secrets here)."""
    hosts: list[str] = Field(default_factory=list)
    """Inventory names; default: the agent's `hosts`."""
    collect: bool = False
    """Store every file the playbook fetched into `ir_collect_dir` as evidence."""


def _hosts(ctx: StepContext, params: AnsibleParams) -> tuple[str, ...]:
    chosen = tuple(params.hosts or ctx.agent.hosts)
    if not chosen:
        raise InputError(f"agent {ctx.agent.id}: no hosts in the inventory and no `hosts:` argument")
    return chosen


def _playbook(ctx: StepContext, params: AnsibleParams) -> Path:
    path = ctx.workspace / "playbooks" / "ansible" / params.playbook
    if not path.is_file():
        raise InputError(f"{path}: no such Ansible playbook")
    return path


class HostsAnsible(Action[AnsibleParams]):
    """Run an Ansible playbook against the agent's hosts."""

    name = "hosts.ansible"
    summary = "Run an Ansible playbook from playbooks/ansible/ against the agent's hosts (check mode in dry runs)."
    Params = AnsibleParams

    def _vars(self, ctx: StepContext, params: AnsibleParams, data_dir: Path) -> dict[str, Any]:
        return {
            **params.vars,
            "ir_case": ctx.case_id,
            "ir_agent": ctx.agent.id,
            "ir_collect_dir": str(data_dir / "collected"),
        }

    def _data_dir(self, ctx: StepContext, label: str) -> Path:
        base = ctx.case_dir if ctx.case_dir is not None else Path("/tmp")
        path = base / "ansible" / f"{ctx.step_id}-{label}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def plan(self, ctx: StepContext, params: AnsibleParams) -> Plan:
        import tempfile

        hosts, book = _hosts(ctx, params), _playbook(ctx, params)
        with tempfile.TemporaryDirectory(prefix="ir-check-") as tmp:
            lines: list[str] = []
            run = ctx.hosts().check(str(book), hosts, self._vars(ctx, params, Path(tmp)), tmp, lines.append)
        changes = tuple(
            Change(f"host {h}", params.playbook, "as is", f"{n} task(s) change")
            for h, n in sorted(run.changed.items())
            if n
        )
        notes = tuple(f"host {h}: {why}" for h, why in sorted(run.failures.items()))
        return Plan(changes, notes or (() if changes else (f"{params.playbook}: no change on {', '.join(hosts)}",)))

    def execute(self, ctx: StepContext, params: AnsibleParams) -> Mapping[str, Any]:
        hosts, book = _hosts(ctx, params), _playbook(ctx, params)
        data_dir = self._data_dir(ctx, "run")
        before = _listing(data_dir)
        try:
            run = ctx.hosts().apply(str(book), hosts, self._vars(ctx, params, data_dir), str(data_dir), ctx.output)
        finally:
            _record_artifacts(ctx, data_dir, before)
        outputs: dict[str, Any] = {
            "changed": dict(run.changed),
            "failures": dict(run.failures),
            "unreachable": list(run.unreachable),
        }
        if params.collect:
            outputs["collected"] = self._collect(ctx, data_dir / "collected")
        if not run.ok:
            raise PartialFailure(_failure_line(params.playbook, run), outputs)
        return outputs

    def _collect(self, ctx: StepContext, folder: Path) -> dict[str, str]:
        assert ctx.evidence is not None
        stored: dict[str, str] = {}
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = "host/" + re.sub(r"/+", "/", str(path.relative_to(folder)))
            item = ctx.evidence.recorded(name)
            if item is None:
                with path.open("rb") as fh:
                    item = ctx.evidence.store(
                        name,
                        iter(lambda: fh.read(1 << 20), b""),
                        source=ctx.hosts().describe(),
                        method="ansible fetch",
                        sensitive=True,
                    )
            stored[name] = item.sha256
        return stored

    def verify(self, ctx: StepContext, params: AnsibleParams) -> Check:
        if params.collect:
            return Check(False, "collection runs again (already stored files are not stored twice)")
        hosts, book = _hosts(ctx, params), _playbook(ctx, params)
        data_dir = self._data_dir(ctx, "verify")
        before = _listing(data_dir)
        try:
            run = ctx.hosts().check(str(book), hosts, self._vars(ctx, params, data_dir), str(data_dir), lambda _l: None)
        finally:
            _record_artifacts(ctx, data_dir, before)
        pending = {h: n for h, n in run.changed.items() if n}
        return Check(
            run.ok and not pending,
            f"hosts with changes still to make: {', '.join(pending) or 'none'}",
            {"changed": {}, "failures": {}, "unreachable": []},
        )


def _listing(folder: Path) -> dict[Path, tuple[int, int]]:
    """(mtime, size) of every file under `folder`: what a run leaves alone is not recorded again."""
    found: dict[Path, tuple[int, int]] = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            found[path] = (st.st_mtime_ns, st.st_size)
    return found


def _record_artifacts(ctx: StepContext, data_dir: Path, before: dict[Path, tuple[int, int]]) -> None:
    """Journal every artifact the runner wrote or changed in the case as a derived file."""
    if ctx.evidence is None or ctx.case_dir is None:
        return
    for path, stamp in sorted(_listing(data_dir).items()):
        if before.get(path) != stamp:
            ctx.evidence.derived(path.relative_to(ctx.case_dir).as_posix(), path)


def _failure_line(playbook: str, run: HostRun) -> str:
    parts = [f"host {h}: {why}" for h, why in sorted(run.failures.items())]
    if not parts:
        raise BackendError(f"{playbook}: ansible reported failure without a host")
    return f"{playbook} failed on {len(parts)} host(s): " + "; ".join(parts)

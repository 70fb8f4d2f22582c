"""HostAutomation through ansible-runner: real Ansible playbooks against the agent's hosts.

The runner's private data dir lives inside the case (so its artifacts are part of the record)
and is kept free of secrets: no env files are written (`suppress_env_files`), and the only
extra variables are paths and names chosen by the playbook, never credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ir.core.errors import BackendError, BackendUnavailable
from ir.core.ports import HostRun
from ir.core.redaction import redact, redact_text

RESULT_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "FAILED",
    "runner_on_unreachable": "UNREACHABLE",
    "runner_on_skipped": "skipped",
}


def _search_path() -> str:
    """PATH with the folder holding ansible-playbook first (a venv's bin is often not on PATH)."""
    found = shutil.which("ansible-playbook") or str(Path(sys.executable).parent / "ansible-playbook")
    if not Path(found).exists():
        raise BackendUnavailable("ansible-playbook not found (pip install ansible-core)")
    return os.pathsep.join([str(Path(found).parent), os.environ.get("PATH", "")])


def _scrub_artifacts(data_dir: str) -> None:
    """ansible-runner records the whole process environment in `artifacts/*/command`: keep names
    only; secret-named fields and secret shapes in the job events and stdout are masked."""
    for command in Path(data_dir, "artifacts").glob("*/command"):
        try:
            record = json.loads(command.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            command.unlink(missing_ok=True)
            continue
        record["env"] = sorted(record.get("env") or {})
        command.write_text(json.dumps(record), encoding="utf-8")
    for event in Path(data_dir, "artifacts").glob("*/job_events/*.json"):  # module args and results
        try:
            found = json.loads(event.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        cleaned = redact(found)
        if cleaned != found:
            event.write_text(json.dumps(cleaned), encoding="utf-8")
    for stdout in Path(data_dir, "artifacts").glob("*/stdout"):
        text = stdout.read_text(encoding="utf-8", errors="replace")
        if redact_text(text) != text:
            stdout.write_text(redact_text(text), encoding="utf-8")


class AnsibleHosts:
    """Runs playbooks with ansible-runner against hosts from an Ansible inventory file."""

    def __init__(self, inventory: Path | None) -> None:
        self.inventory = inventory

    def describe(self) -> str:
        """`ansible <inventory>`."""
        return f"ansible {self.inventory}"

    def check(
        self,
        playbook: str,
        hosts: tuple[str, ...],
        variables: Mapping[str, Any],
        data_dir: str,
        on_line: Callable[[str], None],
    ) -> HostRun:
        """`ansible-playbook --check --diff`: reports what would change, changes nothing."""
        return self._run(playbook, hosts, variables, data_dir, on_line, check=True)

    def apply(
        self,
        playbook: str,
        hosts: tuple[str, ...],
        variables: Mapping[str, Any],
        data_dir: str,
        on_line: Callable[[str], None],
    ) -> HostRun:
        """`ansible-playbook` for real."""
        return self._run(playbook, hosts, variables, data_dir, on_line, check=False)

    def _run(
        self,
        playbook: str,
        hosts: tuple[str, ...],
        variables: Mapping[str, Any],
        data_dir: str,
        on_line: Callable[[str], None],
        *,
        check: bool,
    ) -> HostRun:
        import ansible_runner

        if self.inventory is None or not self.inventory.is_file():
            raise BackendUnavailable(f"no Ansible inventory at {self.inventory} (set ansible.inventory in ir.yaml)")
        path = Path(playbook).resolve()
        failures: dict[str, str] = {}

        def handle(event: dict[str, Any]) -> bool:
            kind = event.get("event", "")
            if kind in RESULT_EVENTS:
                data = event.get("event_data", {})
                host, task = data.get("host", "?"), data.get("task", "?")
                res = data.get("res") or {}
                verdict = "changed" if kind == "runner_on_ok" and res.get("changed") else RESULT_EVENTS[kind]
                line = f"{host}: {task}: {verdict}"
                if kind in ("runner_on_failed", "runner_on_unreachable"):
                    message = str(res.get("msg") or res.get("stderr") or "failed").strip().splitlines()[0][:300]
                    failures.setdefault(host, f"{task}: {message}")
                    line += f": {message}"
                on_line(line)
            return True

        runner = ansible_runner.run(
            private_data_dir=data_dir,
            project_dir=str(path.parent),
            playbook=path.name,
            inventory=str(self.inventory.resolve()),
            limit=",".join(hosts) or "none",
            extravars=dict(variables),
            cmdline="--check --diff" if check else None,
            quiet=True,
            suppress_env_files=True,
            event_handler=handle,
            envvars={
                "PATH": _search_path(),
                "ANSIBLE_HOST_KEY_CHECKING": "False",
                "ANSIBLE_RETRY_FILES_ENABLED": "False",
                "ANSIBLE_NOCOLOR": "1",
                "LC_ALL": "C.UTF-8",
                "LANG": "C.UTF-8",
            },
        )
        _scrub_artifacts(data_dir)
        stats = runner.stats or {}
        unreachable = tuple(sorted((stats.get("dark") or {}).keys()))
        if runner.status not in ("successful", "failed"):
            raise BackendError(f"ansible run {runner.status} (rc {runner.rc}) for {path.name}")
        return HostRun(
            ok=runner.status == "successful" and not failures,
            changed={h: int(n) for h, n in (stats.get("changed") or {}).items()},
            failures=failures,
            unreachable=unreachable,
        )

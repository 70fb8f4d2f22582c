"""Simulated hosts and HTTP: the shipped Ansible playbooks and provider calls, acted out on the world.

The simulated hosts understand the playbooks shipped in `playbooks/ansible/` by name:
`stop-agent-service` (the service becomes stopped and disabled), `set-kill-switch` (the file
appears), `collect-host-logs` (the host's files are written into the collection folder). A
host the world does not know is unreachable, as it would be to Ansible.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ir.backends.world_store import WorldStore
from ir.core.errors import BackendError
from ir.core.ports import HostRun

KNOWN = ("stop-agent-service", "set-kill-switch", "collect-host-logs")


class SimulatedHosts:
    """HostAutomation over a WorldStore."""

    def __init__(self, store: WorldStore) -> None:
        self.store = store

    def describe(self) -> str:
        """`simulated hosts <state file>`."""
        return f"simulated hosts {self.store.state_path}"

    def check(
        self,
        playbook: str,
        hosts: tuple[str, ...],
        variables: Mapping[str, Any],
        data_dir: str,
        on_line: Callable[[str], None],
    ) -> HostRun:
        """What the playbook would change."""
        return self._run(playbook, hosts, variables, data_dir, on_line, apply=False)

    def apply(
        self,
        playbook: str,
        hosts: tuple[str, ...],
        variables: Mapping[str, Any],
        data_dir: str,
        on_line: Callable[[str], None],
    ) -> HostRun:
        """Change the world as the playbook would."""
        return self._run(playbook, hosts, variables, data_dir, on_line, apply=True)

    def _run(
        self,
        playbook: str,
        hosts: tuple[str, ...],
        variables: Mapping[str, Any],
        data_dir: str,
        on_line: Callable[[str], None],
        *,
        apply: bool,
    ) -> HostRun:
        name = Path(playbook).stem
        if name not in KNOWN:
            raise BackendError(f"simulated hosts run only {', '.join(KNOWN)}, not {name}")
        changed: dict[str, int] = {}
        failures: dict[str, str] = {}
        with self.store.open(write=apply) as world:
            self.store.call(world, "apply" if apply else "check", ",".join(hosts), f"hosts {','.join(hosts)}")
            for host in hosts:
                state = world["hosts"].get(host)
                if state is None:
                    failures[host] = "unreachable: host not in the simulated world"
                    on_line(f"{host}: UNREACHABLE")
                    continue
                changed[host] = self._act(name, host, state, variables, Path(data_dir), apply, on_line)
        return HostRun(ok=not failures, changed=changed, failures=failures, unreachable=tuple(sorted(failures)))

    @staticmethod
    def _act(
        name: str,
        host: str,
        state: dict[str, Any],
        variables: Mapping[str, Any],
        data_dir: Path,
        apply: bool,
        on_line: Callable[[str], None],
    ) -> int:
        agent = str(variables.get("ir_agent", "agent"))
        if name == "stop-agent-service":
            service = str(variables.get("agent_service", agent))
            change = state["services"].get(service) != "stopped-disabled"
            if apply:
                state["services"][service] = "stopped-disabled"
            on_line(f"{host}: stop and disable {service}: {'changed' if change else 'ok'}")
            return int(change)
        if name == "set-kill-switch":
            path = str(variables.get("kill_switch_path", f"/run/agent-ir/{agent}.disabled"))
            change = path not in state["files"]
            if apply and change:
                stamp = datetime.datetime.now(datetime.UTC).isoformat()
                state["files"][path] = f"disabled by agent-ir case {variables.get('ir_case', '')} at {stamp}\n"
            on_line(f"{host}: kill switch {path}: {'changed' if change else 'ok'}")
            return int(change)
        default = [p for p in state["files"] if p.startswith("/var/log/")]
        wanted = [str(p) for p in variables.get("agent_log_paths", default)]
        for path in wanted:
            if path not in state["files"]:
                on_line(f"{host}: fetch {path}: skipped (absent)")
                continue
            if apply:
                target = Path(str(variables.get("ir_collect_dir", data_dir))) / host / path.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(state["files"][path], encoding="utf-8")
            on_line(f"{host}: fetch {path}: ok")
        return 0


class SimulatedHttp:
    """HttpCalls that record each call in the world and answer from its `http` seed (default 200)."""

    def __init__(self, store: WorldStore) -> None:
        self.store = store

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float) -> int:
        """Record the call (headers' values are not kept); return the seeded status."""
        with self.store.open(write=True) as world:
            self.store.call(world, "request", url, f"{method} {url}")
            world["http"]["calls"].append({"method": method, "url": url, "headers": sorted(headers)})
            return int(world["http"]["responses"].get(url, 200))

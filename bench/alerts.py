"""Containment from an alert, real dockerd + moto, against the hand-run docker + aws CLI script.

    python -m bench.alerts [--rounds N] [--fleet 50] [--parallel P] [--only one|fleet] [--xargs N]

"Contained" is the state issue 11 names: the container frozen, its user's access keys inactive,
everything and older sessions denied (DESIGN.md "Performance", row containment). Every agent
has its own busybox container on the private dockerd and its own IAM user (one access key) and
role on moto_server. The route runs the shipped `agent-compromise` playbook under
`auto_then_approve`, as in the demo workspace, with signed journal heads (`signing.demo_key`,
service principal `demo-service`) and `alerts.fleet.parallel` = P.

The time to contained is read afterwards from each case's journal: the latest `ts` of the
`step.result` records of `freeze`, `keys`, `deny` and `sessions` (each `succeeded`) minus the
wall clock just before the alert was sent; then the state itself is checked on dockerd (paused)
and moto (keys Inactive, both inline policies on user and role). Nothing polls the server while
it works except the wait for the end, which reads the inbox's SQLite file every 50 ms. Each
measure uses fresh containers, users and workspace:

  warm   `ir serve` already running on 127.0.0.1, warmed by one earlier alert about another
         agent: POST of an Alertmanager delivery → contained;
  cold   `ir contain --alert FILE` as a new process: start → contained;
  fleet  one alert naming the image FLEET agents run (resolved by image: a fleet), warm and
         cold: alert → every agent contained;
each against `CONTAIN_SCRIPT` run by `sh` for the same agents, one after the other (and, with
`--xargs N`, N at a time). Both columns also give the whole run: the playbook goes on after
containment (evidence, network cut, timeline) until its irreversible steps wait for a person.
Prints a markdown table (median, min–max) and writes bench/results/alerts.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench.run import REPO, REVOKE_SCRIPT, Bench, sh
from tests.services import AGENT_LOOP, moto_server, private_dockerd

CONTAIN_SCRIPT = REVOKE_SCRIPT[: REVOKE_SCRIPT.index("aws iam delete-login-profile")]
"""bench.run's script up to its console and secret steps: pause, deactivate each key, deny-all and
deny-older-sessions on the user and the role — what agent-compromise has done when contained."""

CONTAINED = ("freeze", "keys", "deny", "sessions")
"""The agent-compromise steps whose results are the state measured."""

FLEET_LOOP = AGENT_LOOP.replace("sleep 0.2", "sleep 2")
"""A fleet's agents log every 2 s: fifty printing five lines a second would be a fork storm."""

TOKEN = "bench-serve-token-5d1c"
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs.amazonaws.com"},'
    '"Action":"sts:AssumeRole"}]}'
)


@dataclass(frozen=True)
class Agent:
    """One agent: its inventory id, container, image, IAM user and role."""

    id: str
    container: str
    image: str
    user: str
    role: str


@dataclass(frozen=True)
class Timing:
    """One measured containment, in seconds."""

    contained: float
    """Alert sent → every agent's freeze, keys, deny and sessions steps succeeded."""
    whole: float
    """Alert sent → `ir contain` exited, or the served delivery was done (the rest of the playbook ran)."""


class AlertBench(Bench):
    """Agents, workspaces and alerts on the private dockerd and moto_server."""

    def __init__(self, host: str, aws_url: str, *, parallel: int) -> None:
        import boto3

        super().__init__(host, 0, aws_url)
        self.parallel = parallel
        self.env["PYTHONPATH"] = str(REPO)  # this checkout's `ir`, whichever one the venv installed
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled once, as an installed `ir` would be
        self.exe = str(Path(sys.executable).parent / "ir")
        self.iam = boto3.client(
            "iam", endpoint_url=aws_url, region_name="us-east-1", aws_access_key_id="b", aws_secret_access_key="b"
        )
        for tag in ("fleet", "warm"):
            self.api.tag("bench/agent:1", "bench/agent", tag)
        (self.work / "contain.sh").write_text(CONTAIN_SCRIPT)

    def agents(self, n: int, prefix: str, image: str = "bench/agent:1") -> list[Agent]:
        """`n` running agents on one internal network, each with its own user, key and role."""
        self.count += 1
        net = f"bench-{prefix}{self.count}"
        self.api.create_network(net, driver="bridge", internal=True)
        out = []
        for i in range(n):
            name = f"{net}-{i:02d}"
            cfg = self.api.create_host_config(network_mode=net)
            loop = AGENT_LOOP if n == 1 else FLEET_LOOP
            cid = self.api.create_container(image, command=["sh", "-c", loop], name=name, host_config=cfg)
            self.api.start(cid["Id"])
            user, role = f"agent-{name}", f"runtime-{name}"
            self.iam.create_user(UserName=user)
            self.iam.create_access_key(UserName=user)
            self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
            out.append(Agent(f"bot-{name}", name, image, user, role))
        return out

    def alert_workspace(self, agents: list[Agent]) -> Path:
        """A workspace like the demo's: signed heads, one route to agent-compromise."""
        ws = self.work / f"ws-{agents[-1].container}"
        ws.mkdir()
        (ws / "ir.yaml").write_text(
            "name: bench\nsigning: {demo_key: true}\nalerts:\n  service: {principal: demo-service}\n"
            "  sources:\n    alertmanager: {format: alertmanager, auth: {bearer: [IR_SERVE_TOKEN]}}\n"
            "  routes:\n    - {name: contain, playbook: agent-compromise, policy: auto_then_approve}\n"
            f"  breaker: {{max_automatic: 1000, minutes: 10}}\n  fleet: {{parallel: {self.parallel}}}\n"
        )
        lines = ["agents:"]
        for a in agents:
            lines += [
                f"  {a.id}:\n    owner: o\n    purpose: p\n    backend: docker",
                f"    container: {{name: {a.container}, image: '{a.image}'}}",
                f"    credentials:\n      - {{type: aws.iam_user, user_name: {a.user}}}",
                f"      - {{type: aws.iam_role, role_name: {a.role}}}",
            ]
        (ws / "agents.yaml").write_text("\n".join(lines) + "\n")
        shutil.copytree(REPO / "playbooks", ws / "playbooks")
        time.sleep(1.0)  # some log lines for the snapshot, as in bench.run
        return ws

    def tidy(self) -> None:
        """Remove every container, then the bench networks; an endpoint dockerd still holds for a
        removed container (seen after force-removing paused ones) is disconnected by force first."""
        import docker.errors

        for container in self.api.containers(all=True):
            self.api.remove_container(container["Id"], force=True)
        for network in self.api.networks():
            if not network["Name"].startswith("bench-"):
                continue
            for attempt in range(20):
                try:
                    self.api.remove_network(network["Id"])
                    break
                except docker.errors.APIError as exc:
                    if "active endpoints" not in str(exc) or attempt == 19:
                        raise
                for endpoint in (self.api.inspect_network(network["Id"]).get("Containers") or {}).values():
                    with contextlib.suppress(docker.errors.APIError):
                        self.api.disconnect_container_from_network(endpoint["Name"], network["Id"], force=True)
                time.sleep(0.25)

    def check(self, agents: list[Agent]) -> None:
        """Every agent paused, its keys Inactive, its user and role carrying both deny policies."""
        for a in agents:
            assert self.api.inspect_container(a.container)["State"]["Paused"], a
            keys = self.iam.list_access_keys(UserName=a.user)["AccessKeyMetadata"]
            assert {k["Status"] for k in keys} == {"Inactive"}, a
            user = self.iam.list_user_policies(UserName=a.user)["PolicyNames"]
            role = self.iam.list_role_policies(RoleName=a.role)["PolicyNames"]
            assert len(user) == len(role) == 2, (a, user, role)

    # the baseline ----------------------------------------------------------------------------
    def script(self, agents: list[Agent], at_once: int = 1) -> float:
        """CONTAIN_SCRIPT for each agent, `at_once` at a time (xargs -P)."""
        listing = self.work / f"agents-{self.count}.txt"
        listing.write_text("".join(f"{a.container} {a.user} {a.role} -\n" for a in agents))  # no secret
        run = f"xargs -P {at_once} -L 1 sh {self.work / 'contain.sh'} < {listing}"
        start = time.perf_counter()
        sh("sh", "-c", run, env=self.env)
        took = time.perf_counter() - start
        self.check(agents)
        return took

    # cold ------------------------------------------------------------------------------------
    def cold(self, agents: list[Agent], ws: Path, alert: dict[str, Any]) -> Timing:
        path = ws / "alert.json"
        path.write_text(json.dumps(alert))
        t0 = time.time()
        done = subprocess.run(
            [self.exe, "contain", "--alert", str(path)], cwd=ws, env=self.env, capture_output=True, text=True
        )
        whole = time.time() - t0
        assert done.returncode == 4, done.stdout + done.stderr  # 4: console and secrets wait for a person
        self.check(agents)
        return Timing(contained_at(ws, agents) - t0, whole)

    # warm ------------------------------------------------------------------------------------
    def warm(self, agents: list[Agent], ws: Path, alert: dict[str, Any], warmup: dict[str, Any]) -> Timing:
        env = {**self.env, "IR_SERVE_TOKEN": TOKEN}
        with (ws / "serve.out").open("wb") as out, (ws / "serve.err").open("wb") as err:
            proc = subprocess.Popen([self.exe, "serve", "--port", "0"], cwd=ws, env=env, stdout=out, stderr=err)
        try:
            url = listening(proc, ws)
            wait_done(ws, post(url, warmup))
            t0 = time.time()
            wait_done(ws, post(url, alert))
            whole = time.time() - t0
        finally:
            stop(proc)
        assert "Traceback" not in (ws / "serve.err").read_text(), (ws / "serve.err").read_text()
        self.check(agents)
        return Timing(contained_at(ws, agents) - t0, whole)


def am_alert(fingerprint: str, **labels: str) -> dict[str, Any]:
    """An Alertmanager webhook (version 4) delivering one firing alert with `labels`."""
    alert = {
        "status": "firing",
        "labels": {"alertname": "AgentEgressToUnknownHost", "severity": "critical", **labels},
        "annotations": {"summary": "egress to 203.0.113.9"},
        "startsAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint,
    }
    return {
        "version": "4",
        "receiver": "agent-ir",
        "status": "firing",
        "groupKey": '{}:{alertname="AgentEgressToUnknownHost"}',
        "truncatedAlerts": 0,
        "externalURL": "http://alertmanager:9093",
        "groupLabels": {"alertname": "AgentEgressToUnknownHost"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "alerts": [alert],
    }


def listening(proc: subprocess.Popen[bytes], ws: Path) -> str:
    """The URL `ir serve --port 0` says it listens on."""
    deadline = time.monotonic() + 60
    while not (found := re.search(r"listening on (http://127\.0\.0\.1:\d+)", (ws / "serve.out").read_text())):
        assert proc.poll() is None and time.monotonic() < deadline, (ws / "serve.err").read_text()
        time.sleep(0.05)
    return found.group(1)


def post(url: str, body: dict[str, Any]) -> int:
    """POST an Alertmanager delivery; its inbox id."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    request = urllib.request.Request(
        f"{url}/v1/alerts/alertmanager", data=json.dumps(body).encode(), method="POST", headers=headers
    )
    with opener.open(request, timeout=30) as answer:
        assert answer.status == 202, answer.status
        return int(json.loads(answer.read())["inbox_id"])


def wait_done(ws: Path, delivery: int, timeout: float = 600) -> None:
    """Until the inbox says the delivery is done (read-only, every 50 ms)."""
    deadline = time.monotonic() + timeout
    db = sqlite3.connect(f"file:{ws / '.ir' / 'inbox.sqlite'}?mode=ro", uri=True, timeout=30)
    try:
        while True:
            row = db.execute("SELECT state FROM deliveries WHERE id = ?", (delivery,)).fetchone()
            if row is not None and row[0] in ("done", "rejected"):
                assert row[0] == "done", row
                return
            assert time.monotonic() < deadline, f"delivery {delivery} not done"
            time.sleep(0.05)
    finally:
        db.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM by pid while this Popen still owns it."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def contained_at(ws: Path, agents: list[Agent]) -> float:
    """The wall time the last of `agents` was contained, from their cases' journals."""
    wanted, latest = {a.id for a in agents}, 0.0
    seen_agents = []
    for journal in (ws / "cases").glob("*/journal.jsonl"):
        records = [json.loads(line) for line in journal.read_text().splitlines()]
        agent = records[0]["data"]["agent"]["id"]
        if agent not in wanted:
            continue
        seen_agents.append(agent)
        steps = {
            r["data"]["step"]: (r["data"]["status"], r["ts"])
            for r in records
            if r["type"] == "step.result" and r["data"].get("step") in CONTAINED
        }
        assert {s for s, (status, _) in steps.items() if status == "succeeded"} == set(CONTAINED), (journal, steps)
        latest = max(latest, *(parse_ts(ts) for _, ts in steps.values()))
    assert sorted(seen_agents) == sorted(wanted), "one case per agent"
    return latest


def parse_ts(ts: str) -> float:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


# the measures ----------------------------------------------------------------------------------
def one_warm(bench: AlertBench, r: int) -> Timing:
    (warm,) = bench.agents(1, "w", "bench/agent:warm")
    (agent,) = bench.agents(1, "a")
    ws = bench.alert_workspace([warm, agent])
    return bench.warm([agent], ws, am_alert(f"a{r:015x}", agent_id=agent.id), am_alert("w", agent_id=warm.id))


def one_cold(bench: AlertBench, r: int) -> Timing:
    (agent,) = bench.agents(1, "c")
    return bench.cold([agent], bench.alert_workspace([agent]), am_alert(f"c{r:015x}", agent_id=agent.id))


def fleet_warm(bench: AlertBench, r: int, n: int) -> Timing:
    (warm,) = bench.agents(1, "w", "bench/agent:warm")
    fleet = bench.agents(n, "f", "bench/agent:fleet")
    ws = bench.alert_workspace([warm, *fleet])
    alert = am_alert(f"f{r:015x}", image="bench/agent:fleet")
    return bench.warm(fleet, ws, alert, am_alert("w", agent_id=warm.id))


def fleet_cold(bench: AlertBench, r: int, n: int) -> Timing:
    fleet = bench.agents(n, "g", "bench/agent:fleet")
    ws = bench.alert_workspace(fleet)
    return bench.cold(fleet, ws, am_alert(f"g{r:015x}", image="bench/agent:fleet"))


def plan(bench: AlertBench, args: argparse.Namespace) -> dict[str, Callable[[int], Any]]:
    """Measure name → one round of it."""
    n = args.fleet
    one: dict[str, Callable[[int], Any]] = {
        "one_warm": lambda r: one_warm(bench, r),
        "one_cold": lambda r: one_cold(bench, r),
        "one_script": lambda r: bench.script(bench.agents(1, "s")),
    }
    fleet: dict[str, Callable[[int], Any]] = {
        "fleet_warm": lambda r: fleet_warm(bench, r, n),
        "fleet_cold": lambda r: fleet_cold(bench, r, n),
        "fleet_script": lambda r: bench.script(bench.agents(n, "t")),
    }
    if args.xargs:
        fleet["fleet_xargs"] = lambda r: bench.script(bench.agents(n, "x"), args.xargs)
    if args.no_baseline:
        one, fleet = (
            {k: v for k, v in one.items() if "script" not in k},
            {k: v for k, v in fleet.items() if not k.endswith(("script", "xargs"))},
        )
    return {**(one if args.only != "fleet" else {}), **(fleet if args.only != "one" else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fleet", type=int, default=50, help="agents behind the fleet's one alert")
    parser.add_argument("--parallel", type=int, default=50, help="alerts.fleet.parallel of the workspaces")
    parser.add_argument("--only", choices=["one", "fleet"])
    parser.add_argument("--xargs", type=int, default=0, help="also the fleet script, N agents at a time")
    parser.add_argument("--no-baseline", action="store_true", help="agent-ir only (to compare settings)")
    args = parser.parse_args()
    results: dict[str, list[Any]] = {}
    loads: list[float] = []
    with private_dockerd() as host, moto_server() as aws_url:
        bench = AlertBench(host, aws_url, parallel=args.parallel)
        try:
            measures = plan(bench, args)
            for r in range(args.rounds):
                for name, measure in measures.items():
                    loads.append(os.getloadavg()[0])
                    results.setdefault(name, []).append(bench.round(partial(measure, r)))
                print(f"round {r + 1}: { {k: v[-1] for k, v in results.items()} }", file=sys.stderr, flush=True)
                save(results, loads, args)
        finally:
            bench.close()
    report(results, loads, args)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}–{max(values):.3f})"


def save(results: dict[str, list[Any]], loads: list[float], args: argparse.Namespace) -> dict[str, Any]:
    """Write bench/results/alerts.json (after every round: a long run keeps what it measured)."""
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    meta = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "rounds": args.rounds,
        "fleet": args.fleet,
        "parallel": args.parallel,
        "load_1min": {"min": min(loads), "median": statistics.median(loads), "max": max(loads)},
    }
    flat = {k: [asdict(v) if isinstance(v, Timing) else v for v in vs] for k, vs in results.items()}
    (out / "alerts.json").write_text(json.dumps({**meta, **flat}, indent=2))
    return meta


def report(results: dict[str, list[Any]], loads: list[float], args: argparse.Namespace) -> None:
    meta = save(results, loads, args)
    print(f"{meta['machine']}, Python {meta['python']}, {args.rounds} rounds (median, min–max), ")
    print(f"alerts.fleet.parallel {args.parallel}, 1-min load average {min(loads):.2f}–{max(loads):.2f}\n")
    print("| measure | contained (agent-ir) | whole run (agent-ir) | CLI script | ratio | target |")
    print("|---|---|---|---|---|---|")
    rows = (
        ("one agent, warm `ir serve` (POST →)", "one_warm", "one_script", "< 0.5 s"),
        ("one agent, cold `ir contain` (start →)", "one_cold", "one_script", "< 2 s"),
        (f"{args.fleet} agents, one alert, warm", "fleet_warm", "fleet_script", "< 5 s"),
        (f"{args.fleet} agents, one alert, cold", "fleet_cold", "fleet_script", "< 5 s"),
    )
    for label, ours, base, target in rows:
        if ours in results:
            timings = results[ours]
            contained = spread([t.contained for t in timings])
            whole = spread([t.whole for t in timings])
            script, ratio = "—", "—"
            if base in results:
                script = spread(results[base])
                ratio = f"{statistics.median(t.contained for t in timings) / statistics.median(results[base]):.2f}×"
            print(f"| {label} | {contained} | {whole} | {script} | {ratio} | {target} |")
    if "fleet_xargs" in results:
        print(f"\nfleet script, {args.xargs} agents at a time (xargs -P): {spread(results['fleet_xargs'])}")


if __name__ == "__main__":
    main()

"""Benchmarks of containment and evidence capture, each against a baseline measured in the same run.

    python -m bench.run [--rounds N] [--mb SIZE]

Starts a private dockerd, imports a busybox agent image carrying SIZE MB of files, and for each
round creates fresh containers to measure:

  a. `ir run` start → container paused (from the run's own event stream), vs `docker pause`
     run from a fresh process;
  b. the filesystem capture with hashing (stream → sha256 → fsync → read-only store →
     read-back) vs `docker export <c> | sha256sum` on the same container;
  c. the whole agent-compromise playbook vs a hand-written shell script of docker CLI commands
     doing the same freeze, capture (with sha256sum) and network cut;
  d. freeze + full AWS credential revocation (`bench/playbooks/freeze-and-revoke.yaml` against
     moto_server) vs the same steps as a shell script of docker and aws CLI commands.

Prints a markdown table and writes bench/results/latest.json. Containment from an alert (warm
`ir serve`, cold `ir contain`, 50 agents from one alert) is `python -m bench.alerts`, on the same
private dockerd and moto_server and against this module's CLI script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.services import AGENT_LOOP, busybox_rootfs, moto_server, private_dockerd  # noqa: E402

SCRIPT = r"""#!/bin/sh
# The same containment by hand: freeze, capture with hashes, cut every network.
set -eu
c="$1"; out="$2"; mkdir -p "$out"
docker pause "$c"
docker inspect "$c" > "$out/inspect.json"
docker top "$c" > "$out/top.txt"
docker logs --timestamps "$c" > "$out/logs.txt" 2>&1
docker diff "$c" > "$out/diff.txt"
docker export "$c" > "$out/filesystem.tar"
img=$(docker commit --pause=false "$c" bench-evidence:"$c")
docker save "$img" > "$out/image.tar"
docker inspect --format '{{range .Mounts}}{{.Name}} {{.Destination}}{{"\n"}}{{end}}' "$c" > "$out/volumes.txt"
(cd "$out" && sha256sum * > SHA256SUMS && sync)
for n in $(docker inspect --format '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$c"); do
  docker network disconnect "$n" "$c"
done
"""


REVOKE_SCRIPT = r"""#!/bin/sh
# Freeze and revoke by hand: docker and aws CLI, one command per change.
set -eu
c="$1"; u="$2"; r="$3"; s="$4"
docker pause "$c"
for k in $(aws iam list-access-keys --user-name "$u" --query 'AccessKeyMetadata[].AccessKeyId' --output text); do
  aws iam update-access-key --user-name "$u" --access-key-id "$k" --status Inactive
done
deny='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'
aws iam put-user-policy --user-name "$u" --policy-name deny-all --policy-document "$deny"
aws iam put-role-policy --role-name "$r" --policy-name deny-all --policy-document "$deny"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
old='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"'"$now"'"}}}]}'
aws iam put-user-policy --user-name "$u" --policy-name revoke-older-sessions --policy-document "$old"
aws iam put-role-policy --role-name "$r" --policy-name revoke-older-sessions --policy-document "$old"
aws iam delete-login-profile --user-name "$u"
aws secretsmanager put-secret-value --secret-id "$s" --secret-string "$(head -c 32 /dev/urandom | base64)" \
  --client-request-token "$(cat /proc/sys/kernel/random/uuid)" > /dev/null
"""


def sh(*args: str, env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True, **kw)


class Bench:
    """One benchmark session on a private dockerd."""

    def __init__(self, host: str, mb: int, aws_url: str = "") -> None:
        import docker

        self.host = host
        self.aws_url = aws_url
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "DOCKER_HOST": host,
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
            "AWS_ENDPOINT_URL": aws_url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_CONFIG_FILE": "/nonexistent",
        }
        self.api = docker.APIClient(base_url=host, version="auto", timeout=600)
        files = {f"data/blob{i:03d}.bin": os.urandom(1 << 20) for i in range(mb)}
        self.api.import_image_from_data(busybox_rootfs(files), repository="bench/agent", tag="1")
        self.count = 0
        self.work = Path(tempfile.mkdtemp(prefix="ir-bench-"))

    def container(self) -> str:
        """A fresh running agent on two internal networks."""
        self.count += 1
        name = f"bench-{self.count}"
        for suffix in ("a", "b"):
            self.api.create_network(f"{name}-{suffix}", driver="bridge", internal=True)
        cfg = self.api.create_host_config(network_mode=f"{name}-a")
        cid = self.api.create_container("bench/agent:1", command=["sh", "-c", AGENT_LOOP], name=name, host_config=cfg)
        self.api.connect_container_to_network(cid["Id"], f"{name}-b")
        self.api.start(cid["Id"])
        time.sleep(1.0)  # some log lines to capture
        return name

    def workspace(self, container: str, credentials: str = "") -> Path:
        ws = self.work / f"ws-{container}"
        ws.mkdir()
        (ws / "ir.yaml").write_text("name: bench\n")
        (ws / "agents.yaml").write_text(
            "agents:\n  bot:\n    owner: o\n    purpose: p\n    backend: docker\n"
            f"    container: {{name: {container}}}\n{credentials}"
        )
        shutil.copytree(REPO / "playbooks", ws / "playbooks")
        shutil.copy(REPO / "bench" / "playbooks" / "freeze-and-revoke.yaml", ws / "playbooks")
        return ws

    # d ---------------------------------------------------------------------------------------
    def seed_aws(self, tag: str) -> tuple[str, str, str]:
        """A user with a key and console password, a role, a secret; names unique per round."""
        import boto3

        iam = boto3.client(
            "iam",
            endpoint_url=self.aws_url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        sm = boto3.client(
            "secretsmanager",
            endpoint_url=self.aws_url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        user, role, secret = f"agent-{tag}", f"runtime-{tag}", f"agent/{tag}/llm"
        iam.create_user(UserName=user)
        iam.create_access_key(UserName=user)
        iam.create_login_profile(UserName=user, Password="Bench-pw-12345!")
        trust = (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs.amazonaws.com"},'
            '"Action":"sts:AssumeRole"}]}'
        )
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
        sm.create_secret(Name=secret, SecretString="bench-value")
        self.keys_inactive = lambda: {k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
        return user, role, secret

    def revocation(self) -> tuple[float, float]:
        c = self.container()
        user, role, secret = self.seed_aws(f"ir{self.count}")
        creds = (
            f"    credentials:\n      - {{type: aws.iam_user, user_name: {user}}}\n"
            f"      - {{type: aws.iam_role, role_name: {role}}}\n      - {{type: aws.secret, secret_id: {secret}}}\n"
        )
        ws = self.workspace(c, creds)
        start = time.perf_counter()
        sh(
            str(Path(sys.executable).parent / "ir"),
            "run",
            "freeze-and-revoke",
            "--agent",
            "bot",
            "--yes",
            cwd=ws,
            env=self.env,
        )
        ours = time.perf_counter() - start
        assert self.keys_inactive() == {"Inactive"}
        c2 = self.container()
        user, role, secret = self.seed_aws(f"sh{self.count}")
        script = self.work / "revoke.sh"
        script.write_text(REVOKE_SCRIPT)
        start = time.perf_counter()
        sh("sh", str(script), c2, user, role, secret, env=self.env)
        base = time.perf_counter() - start
        assert self.keys_inactive() == {"Inactive"}
        return ours, base

    # a ---------------------------------------------------------------------------------------
    def time_to_paused(self) -> tuple[float, float]:
        c = self.container()
        ws = self.workspace(c)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "ir"), "run", "agent-compromise", "--agent", "bot", "--json"],
            cwd=ws,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        paused_at = None
        assert proc.stdout is not None
        for line in proc.stdout:
            event = json.loads(line)
            if event.get("event") == "step.result" and event.get("step") == "freeze":
                paused_at = time.perf_counter() - start
        proc.wait()
        assert paused_at is not None and proc.returncode == 0
        c2 = self.container()
        start = time.perf_counter()
        sh("docker", "pause", c2, env=self.env)
        return paused_at, time.perf_counter() - start

    # b ---------------------------------------------------------------------------------------
    def capture(self) -> tuple[float, float, int]:
        from ir.backends.docker_engine import DockerEngine
        from ir.core.evidence import EvidenceStore

        c = self.container()
        self.api.pause(c)
        sh("sh", "-c", f"docker export {c} > /dev/null", env=self.env)  # warm the layer cache for both
        engine = DockerEngine(self.host)
        case = self.work / f"case-{c}"
        case.mkdir()

        def ours() -> tuple[float, str, int]:
            start = time.perf_counter()
            stored = EvidenceStore(case, read_back=True).put(engine.export(c))
            return time.perf_counter() - start, stored.sha256, stored.size

        def base() -> tuple[float, str, int]:
            start = time.perf_counter()
            out = sh("sh", "-c", f"docker export {c} | sha256sum", env=self.env).stdout.split()[0]
            return time.perf_counter() - start, out, 0

        # alternate which goes first, so neither always meets a warmer cache
        first, second = (ours, base) if self.count % 2 else (base, ours)
        r1, r2 = first(), second()
        (t_ours, sha, size), (t_base, sha_base, _) = (r1, r2) if first is ours else (r2, r1)
        engine.close()
        assert sha == sha_base, "the same container must export the same bytes"
        return t_ours, t_base, size

    # c ---------------------------------------------------------------------------------------
    def playbook_vs_script(self) -> tuple[float, float]:
        c = self.container()
        ws = self.workspace(c)
        start = time.perf_counter()
        sh(str(Path(sys.executable).parent / "ir"), "run", "agent-compromise", "--agent", "bot", cwd=ws, env=self.env)
        ours = time.perf_counter() - start
        c2 = self.container()
        script = self.work / "contain.sh"
        script.write_text(SCRIPT)
        start = time.perf_counter()
        sh("sh", str(script), c2, str(self.work / f"manual-{c2}"), env=self.env)
        return ours, time.perf_counter() - start

    def tidy(self) -> None:
        """Remove this round's containers and networks (each network holds an address pool)."""
        for container in self.api.containers(all=True):
            self.api.remove_container(container["Id"], force=True)
        for network in self.api.networks():
            if network["Name"].startswith("bench-"):
                self.api.remove_network(network["Id"])

    def round(self, measure: Any) -> Any:
        try:
            return measure()
        finally:
            self.tidy()

    def close(self) -> None:
        self.api.close()
        shutil.rmtree(self.work, ignore_errors=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "rounds": args.rounds,
        "mb": args.mb,
    }
    with private_dockerd() as host, moto_server() as aws_url:
        bench = Bench(host, args.mb, aws_url)
        try:
            a = [bench.round(bench.time_to_paused) for _ in range(args.rounds)]
            b = [bench.round(bench.capture) for _ in range(args.rounds)]
            c = [bench.round(bench.playbook_vs_script) for _ in range(args.rounds)]
            d = [bench.round(bench.revocation) for _ in range(args.rounds)]
        finally:
            bench.close()
    results["a_paused_s"] = {"ir_run": median([x[0] for x in a]), "docker_pause_cli": median([x[1] for x in a])}
    results["b_capture_s"] = {
        "ir_store": median([x[0] for x in b]),
        "export_sha256sum": median([x[1] for x in b]),
        "bytes": b[0][2],
    }
    results["c_playbook_s"] = {"ir_run": median([x[0] for x in c]), "shell_script": median([x[1] for x in c])}
    results["d_revocation_s"] = {"ir_run": median([x[0] for x in d]), "shell_script": median([x[1] for x in d])}
    ratio_b = results["b_capture_s"]["ir_store"] / results["b_capture_s"]["export_sha256sum"]
    ratio_c = results["c_playbook_s"]["ir_run"] / results["c_playbook_s"]["shell_script"]
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    print(
        f"machine: {results['machine']}, Python {results['python']}, "
        f"{args.rounds} rounds (medians), {args.mb} MB of files\n"
    )
    print("| measure | agent-ir | baseline | ratio |\n|---|---|---|---|")
    ra = results["a_paused_s"]
    print(
        f"| a. start → container paused | {ra['ir_run']:.3f} s (`ir run`) | "
        f"{ra['docker_pause_cli']:.3f} s (`docker pause`) "
        f"| {ra['ir_run'] / ra['docker_pause_cli']:.2f}× |"
    )
    rb = results["b_capture_s"]
    print(
        f"| b. filesystem capture + sha256 ({rb['bytes'] / 1e6:.0f} MB) | {rb['ir_store']:.3f} s | "
        f"{rb['export_sha256sum']:.3f} s (`docker export \\| sha256sum`) | {ratio_b:.2f}× |"
    )
    rc = results["c_playbook_s"]
    print(
        f"| c. whole playbook | {rc['ir_run']:.3f} s | {rc['shell_script']:.3f} s (docker CLI script) "
        f"| {ratio_c:.2f}× |"
    )

    rd = results["d_revocation_s"]
    print(
        f"| d. freeze + AWS revocation | {rd['ir_run']:.3f} s | {rd['shell_script']:.3f} s (docker + aws CLI script) "
        f"| {rd['ir_run'] / rd['shell_script']:.2f}× |"
    )


if __name__ == "__main__":
    main()

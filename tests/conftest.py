"""Shared fixtures: workspaces on the simulated world, and a private real Docker Engine.

A missing real component skips its tests with a reason on a developer machine; under
`CI=true` it fails them instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services import AGENT_LOOP, Unavailable, busybox_rootfs, private_dockerd
from tests.services import moto_server as start_moto_server

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(component: str, reason: str) -> None:
    """Skip (developer machine) or fail (CI) because a real component is absent."""
    message = f"{component} unavailable: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing component is a failure)")
    pytest.skip(message)


WORLD = """\
containers:
  support-bot:
    image: registry.example.com/agents/support-bot:1.4.2
    status: running
    networks:
      agents-net: {aliases: [support-bot], ipv4_address: 172.30.0.5}
      egress-proxy: {aliases: [support-bot]}
    env: {OPENAI_API_KEY: sk-canaryCANARYcanary0123456789abcd}
    processes:
      - [1, agent, "00:00:04", "python -m support_bot"]
    files:
      /app/main.py: "print('hi')\\n"
    logs:
      - '2026-11-20T03:12:01.104223Z {"tool":"email.read","call_id":"c1"}'
      - '2026-11-20T03:12:02.000000Z {"tool":"fs.read","call_id":"c2"}'
"""

AGENTS = """\
agents:
  support-bot:
    owner: secops@example.com
    purpose: triages customer support email
    backend: simulated
    container: {name: support-bot}
"""

OTHER_STEPS = (
    "credentials",
    "keys",
    "deny",
    "sessions",
    "console",
    "secrets",
    "minted",
    "minted-keys",
    "minted-deny",
    "minted-console",
    "provider-keys",
    "kill-switch",
    "host-logs",
    "stop-service",
)


def container_steps(**status: str) -> dict[str, str]:
    """Per-step statuses of agent-compromise for an agent with a container and nothing else."""
    steps = {
        "freeze": "succeeded",
        "snapshot": "succeeded",
        "isolate": "succeeded",
        "timeline": "succeeded",
        "stop": "skipped",
    }
    steps.update(dict.fromkeys(OTHER_STEPS, "skipped"))
    steps.update({k.replace("_", "-"): v for k, v in status.items()})
    return steps


def make_workspace(root: Path, *, agents: str = AGENTS, world: str = WORLD, settings: str = "") -> Path:
    """A workspace with the shipped playbooks and a simulated world."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "ir.yaml").write_text(
        "name: test\nsimulated: {seed: world.yaml, state: .ir/world.json}\n" + settings, encoding="utf-8"
    )
    (root / "agents.yaml").write_text(agents, encoding="utf-8")
    (root / "world.yaml").write_text(world, encoding="utf-8")
    shutil.copytree(REPO / "playbooks", root / "playbooks")
    (root / "cases").mkdir()
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh simulated-world workspace."""
    return make_workspace(tmp_path / "ws")


def ir_cmd(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the real `ir` console script as a subprocess."""
    full_env = {**os.environ, "IR_USER": "tester", **(env or {})}
    full_env.pop("IR_WORKSPACE", None)
    exe = Path(sys.executable).parent / "ir"
    result = subprocess.run(
        [str(exe), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"ir {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


# -- a private Docker Engine ----------------------------------------------------------------


@pytest.fixture(scope="session")
def dockerd() -> Iterator[str]:
    """A private dockerd for the test session; yields its DOCKER_HOST URL."""
    try:
        with private_dockerd() as host:
            yield host
    except Unavailable as exc:
        missing("Docker Engine", str(exc))


@pytest.fixture(scope="session")
def docker_api(dockerd: str) -> Iterator[Any]:
    """A low-level docker client on the private daemon, with the agent image imported."""
    import docker

    try:
        rootfs = busybox_rootfs()
    except Unavailable as exc:
        missing("busybox-static", str(exc))
    with docker.APIClient(base_url=dockerd, version="auto", timeout=120) as api:
        api.import_image_from_data(rootfs, repository="ir-test/agent", tag="1")
        yield api


@pytest.fixture
def agent_container(docker_api: Any, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A running busybox agent on two internal networks, writing tool-call JSON lines to stdout."""
    name = f"agent-{os.getpid()}-{abs(hash(request.node.nodeid)) % 10**8}"
    nets = []
    for suffix in ("a", "b"):
        net = docker_api.create_network(f"{name}-{suffix}", driver="bridge", internal=True)
        nets.append(net["Id"])
    host_config = docker_api.create_host_config(network_mode=f"{name}-a")
    created = docker_api.create_container(
        "ir-test/agent:1",
        command=["sh", "-c", AGENT_LOOP],
        name=name,
        host_config=host_config,
        environment={"AGENT_TOKEN": "canary-env-9f8e7d6c5b4a"},
    )
    docker_api.connect_container_to_network(created["Id"], f"{name}-b", aliases=["agent-b"])
    docker_api.start(created["Id"])
    time.sleep(0.5)
    try:
        yield {"name": name, "id": created["Id"], "networks": [f"{name}-a", f"{name}-b"]}
    finally:
        with contextlib.suppress(Exception):
            docker_api.remove_container(created["Id"], force=True)
        for net in nets:
            with contextlib.suppress(Exception):
                docker_api.remove_network(net)


# -- an AWS API endpoint: moto_server on loopback ------------------------------------------------


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto_server on 127.0.0.1 (real HTTP) for the session; yields its endpoint URL."""
    try:
        with start_moto_server() as url:
            yield url
    except Unavailable as exc:
        missing("moto_server", str(exc))


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A fresh moto account; the environment points boto3 (in and out of process) at it."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=5).close()
    env = {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return env


SECRET_CANARY = "canary-secret-value-7d1e9f3a2b"


def seed_aws(env: dict[str, str], keys: int = 1) -> dict[str, Any]:
    """The agent's cloud identity in moto: a user with keys and a console password, a role, a secret."""
    import json

    import boto3

    iam = boto3.client("iam", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1")
    sm = boto3.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1")
    iam.create_user(UserName="agent-support-bot")
    made = [iam.create_access_key(UserName="agent-support-bot")["AccessKey"]["AccessKeyId"] for _ in range(keys)]
    iam.create_login_profile(UserName="agent-support-bot", Password="Sup3r-secret-pw!")
    read = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="agent-read", PolicyDocument=json.dumps(read))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="agent-support-bot", PolicyArn=arn)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="support-bot-runtime", AssumeRolePolicyDocument=json.dumps(trust))
    secret = sm.create_secret(Name="agent/support-bot/openai", SecretString=SECRET_CANARY)
    return {"iam": iam, "sm": sm, "keys": made, "secret_arn": secret["ARN"]}


AWS_AGENT = """\
agents:
  support-bot:
    owner: secops@example.com
    purpose: triages customer support email
    backend: docker
    credentials:
      - {type: aws.iam_user, user_name: agent-support-bot}
      - {type: aws.iam_role, role_name: support-bot-runtime}
      - {type: aws.secret, secret_id: agent/support-bot/openai}
      - {type: http.token, name: llm-vendor-key, owner: platform@example.com}
    logs:
      - {type: cloudtrail, path: logs/cloudtrail}
"""


# -- signing keys: ssh-keygen key pairs and allowed signers in ir.yaml ----------------------------


@pytest.fixture(autouse=True)
def _own_keys_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty keys dir of its own: never the developer's keys, never IR_SIGNING_KEY."""
    keys = tmp_path / "keys"
    monkeypatch.setenv("IR_KEYS_DIR", str(keys))
    monkeypatch.delenv("IR_SIGNING_KEY", raising=False)
    return keys


def ssh_keygen() -> str:
    """The path of Debian openssh-client's ssh-keygen (skip, or fail under CI, when absent)."""
    exe = shutil.which("ssh-keygen")
    if exe is None:
        missing("ssh-keygen (openssh-client)", "not on PATH; scripts/install-system-deps installs it")
    assert exe is not None
    return exe


def make_key(path: Path, kind: str = "ed25519") -> str:
    """An unencrypted OpenSSH key pair made by ssh-keygen at `path`; returns the public key line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["-t", kind] + (["-b", "256"] if kind == "ecdsa" else [])
    subprocess.run([ssh_keygen(), "-q", *args, "-N", "", "-C", path.name, "-f", str(path)], check=True)
    return " ".join(path.with_name(path.name + ".pub").read_text().split()[:2])


def allow_signers(ws: Path, entries: dict[str, Any]) -> None:
    """Merge `principal: key` (or `{key, role}`) entries into ir.yaml's signing.allowed_signers."""
    import yaml

    settings = yaml.safe_load((ws / "ir.yaml").read_text()) or {}
    settings.setdefault("signing", {}).setdefault("allowed_signers", {}).update(entries)
    (ws / "ir.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))


@pytest.fixture
def signers(_own_keys_dir: Path) -> Any:
    """`signers(ws, "alice", "bob", role="responder", kind="ed25519")`: ssh-keygen keys in the test's
    keys dir (so `ir` finds them by principal), allowed in the workspace's ir.yaml."""

    def add(ws: Path, *names: str, role: str = "responder", kind: str = "ed25519") -> dict[str, str]:
        made = {name: make_key(_own_keys_dir / name, kind) for name in names}
        allow_signers(ws, {n: (k if role == "responder" else {"key": k, "role": role}) for n, k in made.items()})
        return made

    return add

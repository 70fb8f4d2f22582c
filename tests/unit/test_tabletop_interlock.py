"""The safety interlock: before an exercise starts, and again at every call of its backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.backends.exercise_guard import ExerciseBackends, LabelledRuntime, LoopbackHttp
from ir.backends.simulated import SimulatedWorld
from ir.core.errors import PermissionDenied
from ir.core.inventory import Agent
from ir.core.workspace import AwsSettings, DockerSettings, find_workspace
from ir.tabletop.interlock import LABEL, InterlockRefused, check, check_aws, loopback
from tests.conftest import make_workspace

EX = "EX-drill-20261120T031000"
TEST_ENV = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "x"}


def agent(**spec: object) -> Agent:
    return Agent.model_validate({"id": "bot", "owner": "o", "purpose": "p", **spec})


def refused(
    agents: dict[str, Agent],
    *,
    live_fire: bool = True,
    env: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    aws: AwsSettings | None = None,
) -> str:
    with pytest.raises(InterlockRefused) as caught:
        check(
            agents,
            live_fire=live_fire,
            exercise_id=EX,
            env=env if env is not None else TEST_ENV,
            aws=aws or AwsSettings(),
            docker=DockerSettings(),
            labels_of=lambda _a: labels,
            where="s.yaml",
        )
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_loopback() -> None:
    assert loopback("http://127.0.0.1:5000") and loopback("http://localhost:4566") and loopback("http://[::1]:80")
    assert loopback("unix:///run/ir-test/docker.sock")
    assert not loopback("https://iam.amazonaws.com") and not loopback("tcp://10.0.0.5:2375")


def test_simulated_agents_pass_and_others_need_live_fire() -> None:
    check(
        {"bot": agent(backend="simulated")},
        live_fire=False,
        exercise_id=EX,
        env={},
        aws=AwsSettings(),
        docker=DockerSettings(),
    )
    said = refused({"bot": agent(backend="docker", container={"name": "bot"})}, live_fire=False)
    assert said == (
        "s.yaml: world.agents.bot: backend docker: an exercise runs on the simulated backends only "
        "(--live-fire allows a labelled, loopback-only sandbox)"
    )


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({**TEST_ENV, "AWS_ENDPOINT_URL": ""}, "AWS_ENDPOINT_URL is not set"),
        (
            {**TEST_ENV, "AWS_ENDPOINT_URL": "https://iam.amazonaws.com"},
            "AWS_ENDPOINT_URL=https://iam.amazonaws.com is not on loopback",
        ),
        (
            {**TEST_ENV, "AWS_ENDPOINT_URL_IAM": "https://iam.amazonaws.com"},
            "AWS_ENDPOINT_URL_IAM=https://iam.amazonaws.com is not on loopback",
        ),
        ({**TEST_ENV, "AWS_PROFILE": "prod"}, "AWS profile 'prod' would supply real credentials"),
        ({**TEST_ENV, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds"}, "would use a real role"),
        ({k: v for k, v in TEST_ENV.items() if k != "AWS_ACCESS_KEY_ID"}, "AWS_ACCESS_KEY_ID is not set"),
        ({**TEST_ENV, "AWS_ACCESS_KEY_ID": "AKIAQWERTYUIOPASDFGH"}, "AKIA…DFGH looks like a real access key"),
    ],
)
def test_aws_only_on_loopback_with_test_credentials(env: dict[str, str], said: str) -> None:
    message = refused(
        {"bot": agent(backend="docker", credentials=[{"type": "aws.iam_user", "user_name": "u"}])}, env=env
    )
    assert message.startswith("s.yaml: world.agents.bot: live fire: ") and said in message


def test_a_profile_in_ir_yaml_is_refused_too_and_test_keys_pass() -> None:
    with pytest.raises(InterlockRefused, match="profile 'prod'"):
        check_aws(TEST_ENV, AwsSettings(profile="prod"))
    check_aws(TEST_ENV, AwsSettings())
    check_aws({**TEST_ENV, "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}, AwsSettings())  # AWS's documentation key


def test_containers_must_carry_this_exercises_label_on_a_private_engine() -> None:
    bot = {"bot": agent(backend="docker", container={"name": "bot"})}
    assert "does not carry the label dev.agent-ir.exercise=" + EX in refused(bot, labels={})
    assert "does not carry the label" in refused(bot, labels={LABEL: "EX-another-20261120T000000"})
    assert "container bot not found" in refused(bot, labels=None)
    remote = {"bot": agent(backend="docker", container={"name": "bot", "host": "tcp://10.0.0.5:2375"})}
    assert "Docker host tcp://10.0.0.5:2375 is not a private engine" in refused(remote, labels={LABEL: EX})
    check(
        bot,
        live_fire=True,
        exercise_id=EX,
        env={"DOCKER_HOST": "unix:///tmp/d.sock"},
        aws=AwsSettings(),
        docker=DockerSettings(),
        labels_of=lambda _a: {LABEL: EX},
    )


def test_hosts_and_remote_revocation_are_out_of_live_fire() -> None:
    assert "live fire does not reach hosts" in refused({"bot": agent(backend="docker", hosts=["h1"])})
    token = {"type": "http.token", "name": "vendor", "revoke_url": "https://api.vendor.example/revoke"}
    assert "revoke_url https://api.vendor.example/revoke is not on loopback" in refused(
        {"bot": agent(backend="docker", credentials=[token])}
    )


WORLD = """\
containers:
  labelled: {status: running, labels: {dev.agent-ir.exercise: EX-drill-20261120T031000}}
  bystander: {status: running}
"""


def test_the_runtime_refuses_an_unlabelled_container_at_the_call(tmp_path: Path) -> None:
    (tmp_path / "world.yaml").write_text(WORLD)
    inner = SimulatedWorld(tmp_path / "world.json", tmp_path / "world.yaml")
    guarded = LabelledRuntime(inner, EX)
    guarded.pause("labelled")
    assert inner.container_status("labelled") == "paused"
    with pytest.raises(PermissionDenied, match="container bystander: exercise interlock: it does not carry the label"):
        guarded.pause("bystander")
    with pytest.raises(PermissionDenied):
        list(guarded.export("bystander"))
    assert inner.container_status("bystander") == "running"


def test_the_sandbox_backends_refuse_hosts_real_aws_and_remote_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backends = ExerciseBackends(find_workspace(make_workspace(tmp_path / "ws")), EX, live_fire=True)
    assert backends.container_runtime("simulated", None) is backends.container_runtime("simulated", None)
    with pytest.raises(PermissionDenied, match="does not reach hosts"):
        backends.host_automation("docker")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://iam.amazonaws.com")
    with pytest.raises(PermissionDenied, match="exercise interlock: live fire: AWS_ENDPOINT_URL=https://iam"):
        backends.cloud_credentials("docker")

    class Recorder:
        def request(self, method: str, url: str, headers: object, body: object, timeout: float) -> int:
            return 204

    http = LoopbackHttp(Recorder())  # type: ignore[arg-type]
    assert http.request("POST", "http://127.0.0.1:9/revoke", {}, None, 1) == 204
    with pytest.raises(PermissionDenied, match="loopback addresses only"):
        http.request("POST", "https://api.vendor.example/revoke", {}, None, 1)
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.5:2375")
    with pytest.raises(PermissionDenied, match=r"Docker host tcp://10\.0\.0\.5:2375 is not a private engine"):
        backends.container_runtime("docker", None)


def test_a_sandbox_not_started_live_fire_refuses_every_backend_but_the_simulated_one(tmp_path: Path) -> None:
    backends = ExerciseBackends(find_workspace(make_workspace(tmp_path / "ws")), EX)
    backends.container_runtime("simulated", None)
    for get in (
        lambda: backends.container_runtime("docker", "unix:///tmp/d.sock"),
        lambda: backends.cloud_credentials("docker"),
        lambda: backends.http("docker"),
    ):
        with pytest.raises(PermissionDenied, match=f"exercise {EX} was not started --live-fire"):
            get()

"""One contract, two clouds: the simulated cloud must behave like AWS (moto_server over real HTTP).

moto checks state faithfully but does not enforce key status or policy conditions: these tests
prove the state AWS would report (key Inactive, policy attached with its condition), not that
AWS would refuse the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ir.backends.simulated_cloud import SimulatedCloud
from ir.backends.world_store import WorldStore
from ir.core.errors import NotFoundError
from ir.core.ports import CloudCredentials
from tests.conftest import seed_aws

SIM_WORLD = """\
iam:
  users:
    agent-support-bot:
      access_keys: [{id: AKIASIMULATED0000001}, {id: AKIASIMULATED0000002}]
      attached_policies: ["arn:aws:iam::123456789012:policy/agent-read"]
      login_profile: true
  roles:
    support-bot-runtime: {}
secrets:
  agent/support-bot/openai: {}
"""


@pytest.fixture(params=["simulated", "aws"])
def cloud(request: pytest.FixtureRequest, tmp_path: Path) -> CloudCredentials:
    if request.param == "simulated":
        (tmp_path / "world.yaml").write_text(SIM_WORLD)
        return SimulatedCloud(WorldStore(tmp_path / "world.json", tmp_path / "world.yaml"))
    from ir.backends.aws import AwsCredentials

    env: dict[str, str] = request.getfixturevalue("aws")
    seed_aws(env, keys=2)
    return AwsCredentials()


def test_protocol(cloud: CloudCredentials) -> None:
    assert isinstance(cloud, CloudCredentials)


def test_principal_state(cloud: CloudCredentials) -> None:
    user = cloud.principal("user", "agent-support-bot")
    assert user.arn.endswith(":user/agent-support-bot")
    assert [k.status for k in user.access_keys] == ["Active", "Active"]
    assert user.attached_policies == ("arn:aws:iam::123456789012:policy/agent-read",)
    assert user.login_profile
    role = cloud.principal("role", "support-bot-runtime")
    assert role.arn.endswith(":role/support-bot-runtime") and role.access_keys == ()
    with pytest.raises(NotFoundError, match=r"aws\.iam_user:nobody"):
        cloud.principal("user", "nobody")


def test_keys_policies_and_console(cloud: CloudCredentials) -> None:
    key = cloud.principal("user", "agent-support-bot").access_keys[0].key_id
    cloud.set_key_status("agent-support-bot", key, "Inactive")
    statuses = {k.key_id: k.status for k in cloud.principal("user", "agent-support-bot").access_keys}
    assert statuses[key] == "Inactive" and list(statuses.values()).count("Active") == 1
    assert cloud.access_keys("agent-support-bot") == cloud.principal("user", "agent-support-bot").access_keys
    with pytest.raises(NotFoundError, match=r"aws\.iam_user:nobody"):
        cloud.access_keys("nobody")
    doc: dict[str, Any] = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    for kind, name in (("user", "agent-support-bot"), ("role", "support-bot-runtime")):
        assert cloud.inline_policy(kind, name, "p") is None  # type: ignore[arg-type]
        cloud.put_inline_policy(kind, name, "p", doc)  # type: ignore[arg-type]
        assert cloud.inline_policy(kind, name, "p") == doc  # type: ignore[arg-type]
        assert "p" in cloud.principal(kind, name).inline_policies  # type: ignore[arg-type]
        cloud.delete_inline_policy(kind, name, "p")  # type: ignore[arg-type]
        assert cloud.inline_policy(kind, name, "p") is None  # type: ignore[arg-type]
    cloud.delete_login_profile("agent-support-bot")
    assert cloud.principal("user", "agent-support-bot").login_profile is None
    with pytest.raises(NotFoundError):
        cloud.delete_login_profile("agent-support-bot")


def test_a_request_token_makes_one_version_however_often_it_is_sent(cloud: CloudCredentials) -> None:
    before = cloud.secret("agent/support-bot/openai")
    assert before.current and not before.rotation_enabled
    token = "7b0f4c1e-9a5d-4e2b-8c3f-1d2e3f4a5b6c"
    assert cloud.put_random_secret_version("agent/support-bot/openai", token) == token
    assert cloud.put_random_secret_version("agent/support-bot/openai", token) == token
    after = cloud.secret("agent/support-bot/openai")
    assert after.current == token
    assert len(after.versions) == 2
    assert "AWSPREVIOUS" in after.versions[str(before.current)]
    with pytest.raises(NotFoundError, match=r"aws\.secret:nope"):
        cloud.secret("nope")

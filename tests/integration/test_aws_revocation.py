"""agent-compromise revoking real AWS API state on moto_server, through the `ir` command.

moto does not enforce key status or policy conditions; these tests assert the state AWS would
report: keys Inactive, the deny policies attached with their condition, login profiles gone,
a new secret version made once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import AWS_AGENT, OTHER_STEPS, SECRET_CANARY, ir_cmd, make_workspace, seed_aws

ENV_CANARY = "canary-env-4c3b2a1f0e9d8c7b"


def ct(
    name: str,
    actor: str,
    actor_key: str,
    request: dict[str, Any],
    response: dict[str, Any] | None = None,
    when: str = "2026-11-20T03:12:10Z",
) -> dict[str, Any]:
    """A CloudTrail record shaped like the invictus sample's IAM events."""
    return {
        "eventVersion": "1.08",
        "eventTime": when,
        "eventSource": "iam.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "python-requests/2.31",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::123456789012:user/{actor}",
            "accountId": "123456789012",
            "accessKeyId": actor_key,
            "userName": actor,
        },
        "requestParameters": request,
        "responseElements": response,
        "errorCode": None,
        "eventID": f"{name}-{request.get('userName')}",
    }


def setup(tmp_path: Path, aws: dict[str, str]) -> tuple[Path, dict[str, Any]]:
    seeded = seed_aws(aws)
    iam = seeded["iam"]
    agent_key = seeded["keys"][0]
    minted_own = iam.create_access_key(UserName="agent-support-bot")["AccessKey"]["AccessKeyId"]
    iam.create_user(UserName="support-bot-helper")
    helper_key = iam.create_access_key(UserName="support-bot-helper")["AccessKey"]["AccessKeyId"]
    iam.create_login_profile(UserName="support-bot-helper", Password="Helper-pw-123!")
    records = [
        ct(
            "CreateAccessKey",
            "agent-support-bot",
            agent_key,
            {"userName": "agent-support-bot"},
            {"accessKey": {"accessKeyId": minted_own, "status": "Active"}},
        ),
        ct("CreateUser", "agent-support-bot", agent_key, {"userName": "support-bot-helper"}),
        ct(
            "CreateAccessKey",
            "agent-support-bot",
            agent_key,
            {"userName": "support-bot-helper"},
            {"accessKey": {"accessKeyId": helper_key, "status": "Active"}},
        ),
        ct("CreateLoginProfile", "agent-support-bot", agent_key, {"userName": "support-bot-helper"}),
        {**ct("CreateUser", "agent-support-bot", agent_key, {"userName": "never-made"}), "errorCode": "AccessDenied"},
    ]
    ws = make_workspace(tmp_path / "ws", agents=AWS_AGENT)
    (ws / "logs" / "cloudtrail").mkdir(parents=True)
    (ws / "logs" / "cloudtrail" / "trail.json").write_text(json.dumps({"Records": records}))
    return ws, {**seeded, "minted_own": minted_own, "helper_key": helper_key}


def journal(case: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def test_full_revocation_on_moto(tmp_path: Path, aws: dict[str, str]) -> None:
    ws, seeded = setup(tmp_path, aws)
    iam, sm = seeded["iam"], seeded["sm"]
    result = ir_cmd(
        "run",
        "agent-compromise",
        "--agent",
        "support-bot",
        "--yes",
        "--json",
        cwd=ws,
        env={**aws, "IR_TEST_API_TOKEN": ENV_CANARY},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    for step in OTHER_STEPS[:-3]:  # every credential step; the host steps are skipped (no hosts)
        assert summary["steps"][step] == "succeeded", step

    for user in ("agent-support-bot", "support-bot-helper"):
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        assert keys and {k["Status"] for k in keys} == {"Inactive"}, user
        assert "agent-ir-deny-all" in iam.list_user_policies(UserName=user)["PolicyNames"]
        assert not _has_login_profile(iam, user)
    assert len(iam.list_access_keys(UserName="agent-support-bot")["AccessKeyMetadata"]) == 2  # none deleted
    role_policies = iam.list_role_policies(RoleName="support-bot-runtime")["PolicyNames"]
    assert {"agent-ir-deny-all", "agent-ir-revoke-older-sessions"} <= set(role_policies)

    case = Path(summary["case"])
    records = journal(case)
    intent = next(r["data"] for r in records if r["type"] == "step.intent" and r["data"]["step"] == "sessions")
    cutoff = intent["prior"]["cutoff"]
    doc = iam.get_role_policy(RoleName="support-bot-runtime", PolicyName="agent-ir-revoke-older-sessions")
    condition = doc["PolicyDocument"]["Statement"][0]["Condition"]
    assert condition == {"DateLessThan": {"aws:TokenIssueTime": cutoff}}

    versions = sm.list_secret_version_ids(SecretId="agent/support-bot/openai")["Versions"]
    assert len(versions) == 2
    current = next(v for v in versions if "AWSCURRENT" in v["VersionStages"])
    rotated = next(r["data"] for r in records if r["type"] == "step.result" and r["data"]["step"] == "secrets")
    assert rotated["outputs"]["rotated"] == {"agent/support-bot/openai": current["VersionId"]}

    minted = next(r["data"]["outputs"] for r in records if r["type"] == "step.result" and r["data"]["step"] == "minted")
    assert minted["users"] == ["support-bot-helper"]
    assert minted["access_keys"] == {
        "agent-support-bot": [seeded["minted_own"]],
        "support-bot-helper": [seeded["helper_key"]],
    }
    assert minted["login_profiles"] == ["support-bot-helper"]

    follow_ups = {f["what"]: f["owner"] for f in summary["follow_ups"]}
    assert follow_ups == {
        "revoke the old value of aws.secret:agent/support-bot/openai where it was issued": "secops@example.com",
        "revoke http.token:llm-vendor-key at its provider": "platform@example.com",
    }
    assert ir_cmd("verify", str(case)).returncode == 0

    evidence = {r["data"]["name"]: r["data"] for r in records if r["type"] == "evidence.added"}
    secret_meta = json.loads((case / evidence["aws.secret:agent/support-bot/openai.json"]["path"]).read_text())
    assert secret_meta["rotation_enabled"] is False and len(secret_meta["versions"]) == 1
    # this agent has no container, so every byte in the case is ours to check: evidence included
    written = result.stdout + result.stderr
    for path in case.rglob("*"):
        if path.is_file():
            written += path.read_text(errors="replace")
    for canary in (SECRET_CANARY, ENV_CANARY, "Sup3r-secret-pw!", "Helper-pw-123!"):
        assert canary not in written


def _has_login_profile(iam: Any, user: str) -> bool:
    try:
        iam.get_login_profile(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def test_kill_between_intent_and_call_never_rotates_twice_nor_moves_the_cutoff(
    tmp_path: Path, aws: dict[str, str]
) -> None:
    ws, seeded = setup(tmp_path, aws)
    for failpoint in ("step.output:sessions:1", "step.intent:secrets"):
        killed = ir_cmd(
            "run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws, env={**aws, "IR_FAILPOINT": failpoint}
        )
        assert killed.returncode == -9, killed.stderr
        case = sorted((ws / "cases").iterdir())[-1]
        resumed = ir_cmd("resume", case.name, "--yes", "--json", cwd=ws, env=aws)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        records = journal(case)
        cutoffs = {
            r["data"]["prior"]["cutoff"]
            for r in records
            if r["type"] == "step.intent" and r["data"]["step"] == "sessions" and "prior" in r["data"]
        }
        assert len(cutoffs) == 1
        (cutoff,) = cutoffs
        for kind, name in (("user", "agent-support-bot"), ("role", "support-bot-runtime")):
            getter = seeded["iam"].get_user_policy if kind == "user" else seeded["iam"].get_role_policy
            key = {"UserName": name} if kind == "user" else {"RoleName": name}
            doc = getter(**key, PolicyName="agent-ir-revoke-older-sessions")["PolicyDocument"]
            assert doc["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"] == cutoff
    versions = seeded["sm"].list_secret_version_ids(SecretId="agent/support-bot/openai")["Versions"]
    assert len(versions) == 3  # the seed, one per case: the killed-and-resumed rotation made exactly one


def test_unknown_principal_and_unreachable_endpoint(tmp_path: Path, aws: dict[str, str]) -> None:
    seed_aws(aws)
    agents = AWS_AGENT.replace("user_name: agent-support-bot", "user_name: ghost-user")
    ws = make_workspace(tmp_path / "ws", agents=agents)
    result = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws, env=aws)
    assert result.returncode == 1
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["steps"]["keys"] == "failed" and summary["steps"]["deny"] == "failed"
    assert summary["steps"]["secrets"] == "succeeded"
    records = journal(Path(summary["case"]))
    deny = next(r["data"] for r in records if r["type"] == "step.result" and r["data"]["step"] == "deny")
    assert deny["outputs"]["attached"] == ["aws.iam_role:support-bot-runtime"]
    assert list(deny["outputs"]["failed"]) == ["aws.iam_user:ghost-user"]
    assert "aws.iam_user:ghost-user" in deny["error"] and "not found (NoSuchEntity)" in deny["error"]

    down = ir_cmd(
        "run",
        "agent-compromise",
        "--agent",
        "support-bot",
        "--yes",
        cwd=ws,
        env={**aws, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"},
    )
    assert down.returncode == 3
    assert "AWS endpoint unreachable" in down.stderr

"""CloudCredentials on AWS: IAM, Secrets Manager and CloudTrail through boto3.

Credentials come from boto3's standard chain (environment, profile, instance role); the
endpoint from `AWS_ENDPOINT_URL` when set (how the tests reach moto_server), the region from
`AWS_REGION`, the profile from `AWS_PROFILE`. botocore retries with mode `standard`; its
retries are not wrapped in another loop, so throttling that outlasts them is a plain failure.
Vendor errors are translated once, in `translate_errors()`.
"""

from __future__ import annotations

import json
import secrets as random_source
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

import boto3
import botocore.config
import botocore.exceptions

from ir.core.errors import BackendError, BackendUnavailable, NotFoundError, PermissionDenied
from ir.core.ports import AccessKey, Principal, SecretState

NOT_FOUND = {"NoSuchEntity", "ResourceNotFoundException", "NoSuchEntityException"}
DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "SignatureDoesNotMatch",
}
POOL = 64
"""Connections kept per client: one per case an alert runs at once (`alerts.fleet.parallel` ≤ 64)."""
THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}


class Throttled(BackendError):
    """AWS kept throttling after botocore's own retries (mode standard)."""


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Map botocore exceptions to ir errors naming `what`."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", "")).strip()
        if code in NOT_FOUND:
            raise NotFoundError(f"{what}: not found ({code})") from exc
        if code in DENIED:
            raise PermissionDenied(f"{what}: access denied ({code}: {message})") from exc
        if code in THROTTLED:
            raise Throttled(f"{what}: still throttled after retries ({code})") from exc
        raise BackendError(f"{what}: {code}: {message}") from exc
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as exc:
        raise BackendUnavailable(f"{what}: AWS endpoint unreachable ({exc})") from exc
    except botocore.exceptions.NoCredentialsError as exc:
        raise BackendUnavailable(f"{what}: no AWS credentials found (environment, profile or instance role)") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise BackendError(f"{what}: {exc}") from exc


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


class AwsCredentials:
    """IAM users and roles, Secrets Manager secrets, and CloudTrail LookupEvents."""

    def __init__(self, *, region: str | None = None, profile: str | None = None, max_attempts: int = 5) -> None:
        config = botocore.config.Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=5,
            read_timeout=30,
            max_pool_connections=POOL,
        )
        with translate_errors("aws session"):
            session = boto3.session.Session(profile_name=profile, region_name=region)
            self.region = session.region_name or "us-east-1"
            self.iam = session.client("iam", config=config, region_name=self.region)
            self.secretsmanager = session.client("secretsmanager", config=config, region_name=self.region)
            self.cloudtrail = session.client("cloudtrail", config=config, region_name=self.region)

    def describe(self) -> str:
        """`aws <endpoint>`."""
        return f"aws {self.iam.meta.endpoint_url}"

    def principal(self, kind: Literal["user", "role"], name: str) -> Principal:
        """A user's or role's keys, policies, console access and MFA devices."""
        with translate_errors(f"aws.iam_{kind}:{name}"):
            if kind == "user":
                arn = self.iam.get_user(UserName=name)["User"]["Arn"]
                keys = tuple(
                    AccessKey(k["AccessKeyId"], k["Status"], _iso(k.get("CreateDate")))
                    for k in self._pages("list_access_keys", "AccessKeyMetadata", UserName=name)
                )
                attached = tuple(
                    p["PolicyArn"]
                    for p in self._pages("list_attached_user_policies", "AttachedPolicies", UserName=name)
                )
                inline = tuple(self._pages("list_user_policies", "PolicyNames", UserName=name))
                mfa = tuple(d["SerialNumber"] for d in self._pages("list_mfa_devices", "MFADevices", UserName=name))
                return Principal("user", name, arn, keys, attached, inline, self._login_profile(name), mfa)
            arn = self.iam.get_role(RoleName=name)["Role"]["Arn"]
            attached = tuple(
                p["PolicyArn"] for p in self._pages("list_attached_role_policies", "AttachedPolicies", RoleName=name)
            )
            inline = tuple(self._pages("list_role_policies", "PolicyNames", RoleName=name))
            return Principal("role", name, arn, (), attached, inline, None, ())

    def _pages(self, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
        for page in self.iam.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])

    def _login_profile(self, user: str) -> str | None:
        try:
            return _iso(self.iam.get_login_profile(UserName=user)["LoginProfile"].get("CreateDate"))
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
                return None
            raise

    def access_keys(self, user: str) -> tuple[AccessKey, ...]:
        """ListAccessKeys alone (one call where `principal` makes six)."""
        with translate_errors(f"aws.iam_user:{user}"):
            return tuple(
                AccessKey(k["AccessKeyId"], k["Status"], _iso(k.get("CreateDate")))
                for k in self._pages("list_access_keys", "AccessKeyMetadata", UserName=user)
            )

    def set_key_status(self, user: str, key_id: str, status: Literal["Active", "Inactive"]) -> None:
        """UpdateAccessKey (keys are never deleted: the id stays for the investigation)."""
        with translate_errors(f"aws.iam_user:{user} key {key_id}"):
            self.iam.update_access_key(UserName=user, AccessKeyId=key_id, Status=status)

    def inline_policy(self, kind: Literal["user", "role"], name: str, policy: str) -> dict[str, Any] | None:
        """GetUserPolicy / GetRolePolicy, None when absent."""
        try:
            with translate_errors(f"aws.iam_{kind}:{name} policy {policy}"):
                if kind == "user":
                    doc = self.iam.get_user_policy(UserName=name, PolicyName=policy)["PolicyDocument"]
                else:
                    doc = self.iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        except NotFoundError:
            return None
        return dict(doc) if isinstance(doc, dict) else None

    def put_inline_policy(
        self, kind: Literal["user", "role"], name: str, policy: str, document: dict[str, Any]
    ) -> None:
        """PutUserPolicy / PutRolePolicy."""
        with translate_errors(f"aws.iam_{kind}:{name} policy {policy}"):
            if kind == "user":
                self.iam.put_user_policy(UserName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
            else:
                self.iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))

    def delete_inline_policy(self, kind: Literal["user", "role"], name: str, policy: str) -> None:
        """DeleteUserPolicy / DeleteRolePolicy."""
        with translate_errors(f"aws.iam_{kind}:{name} policy {policy}"):
            if kind == "user":
                self.iam.delete_user_policy(UserName=name, PolicyName=policy)
            else:
                self.iam.delete_role_policy(RoleName=name, PolicyName=policy)

    def delete_login_profile(self, user: str) -> None:
        """DeleteLoginProfile."""
        with translate_errors(f"aws.iam_user:{user} console password"):
            self.iam.delete_login_profile(UserName=user)

    def secret(self, secret_id: str) -> SecretState:
        """DescribeSecret: metadata only, never the value."""
        with translate_errors(f"aws.secret:{secret_id}"):
            meta = self.secretsmanager.describe_secret(SecretId=secret_id)
        versions = {v: tuple(stages) for v, stages in (meta.get("VersionIdsToStages") or {}).items()}
        return SecretState(
            secret_id,
            str(meta["ARN"]),
            str(meta["Name"]),
            bool(meta.get("RotationEnabled")),
            versions,
            _iso(meta.get("LastChangedDate")),
        )

    def rotate_secret(self, secret_id: str, token: str) -> str:
        """RotateSecret with a fixed ClientRequestToken, using the secret's configured rotation."""
        with translate_errors(f"aws.secret:{secret_id} rotation"):
            return str(self.secretsmanager.rotate_secret(SecretId=secret_id, ClientRequestToken=token)["VersionId"])

    def put_random_secret_version(self, secret_id: str, token: str) -> str:
        """PutSecretValue of 48 random bytes (urlsafe) as AWSCURRENT; the value is never returned.

        The same token sent again finds its version instead of failing: AWS refuses a reused
        token with a different value (ResourceExistsException), and every call's value differs.
        """
        try:
            with translate_errors(f"aws.secret:{secret_id} new version"):
                result = self.secretsmanager.put_secret_value(
                    SecretId=secret_id, ClientRequestToken=token, SecretString=random_source.token_urlsafe(48)
                )
        except BackendError as exc:
            if "ResourceExistsException" in str(exc) and token in self.secret(secret_id).versions:
                return token
            raise
        return str(result["VersionId"])

    def lookup_events(self, username: str, start: str) -> list[dict[str, Any]]:
        """CloudTrail LookupEvents by user name since `start`; each record is the parsed CloudTrailEvent."""
        events: list[dict[str, Any]] = []
        with translate_errors(f"cloudtrail LookupEvents for {username}"):
            paginator = self.cloudtrail.get_paginator("lookup_events")
            pages = paginator.paginate(
                LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": username}],
                StartTime=datetime.fromisoformat(start.replace("Z", "+00:00")),
            )
            for page in pages:
                events.extend(
                    json.loads(e["CloudTrailEvent"]) for e in page.get("Events", []) if e.get("CloudTrailEvent")
                )
        return events

"""AWS errors are translated once, at the backend's edge, into errors a responder can act on."""

from __future__ import annotations

import botocore.exceptions
import pytest

from ir.backends.aws import Throttled, translate_errors
from ir.core.errors import BackendUnavailable, ExitCode, NotFoundError, PermissionDenied


def client_error(code: str, message: str = "details") -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, "UpdateAccessKey")


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        (client_error("NoSuchEntity"), NotFoundError, "aws.iam_user:bot: not found (NoSuchEntity)"),
        (
            client_error("AccessDenied", "not authorized to perform iam:UpdateAccessKey"),
            PermissionDenied,
            "aws.iam_user:bot: access denied (AccessDenied: not authorized to perform iam:UpdateAccessKey)",
        ),
        (client_error("Throttling", "Rate exceeded"), Throttled, "aws.iam_user:bot: still throttled after retries"),
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
            BackendUnavailable,
            "aws.iam_user:bot: AWS endpoint unreachable",
        ),
        (botocore.exceptions.NoCredentialsError(), BackendUnavailable, "no AWS credentials found"),
    ],
)
def test_vendor_errors_become_ir_errors(error: Exception, kind: type[Exception], text: str) -> None:
    with pytest.raises(kind) as info, translate_errors("aws.iam_user:bot"):
        raise error
    assert text in str(info.value)


def test_throttling_is_not_retried_again_by_the_engine() -> None:
    # botocore already retried with mode "standard"; the engine must not wrap that in a second loop
    assert Throttled.transient is False
    assert BackendUnavailable("x").exit_code == ExitCode.BACKEND_UNAVAILABLE

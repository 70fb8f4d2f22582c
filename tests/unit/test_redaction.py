"""Secret-named fields are masked wherever they hide; names that only look secret keep their evidence."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ir.core.redaction import NAMED_MASK, is_secret_name, redact, redact_text
from ir.core.text import csv_cell, json_safe, neutralise

SECRET = [
    "password",
    "Password",
    "PASSWORD",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "clientSecret",
    "token",
    "access_token",
    "accessToken",
    "refresh_token",
    "session_token",
    "SessionToken",
    "id_token",
    "api_key",
    "API-Key",
    "apiKey",
    "apikey",
    "ApiKey",
    "x-api-key",
    "X-API-Key",
    "XApiKey",
    "api.key",
    "authorization",
    "Authorization",
    "proxy-authorization",
    "cookie",
    "Set-Cookie",
    "private_key",
    "privateKey",
    "secret_access_key",
    "SecretAccessKey",
    "aws_secret_access_key",
    "AWS_SECRET_ACCESS_KEY",
    "credentials",
    "db_password",
    "github_token",
    "X-Amz-Security-Token",
    "SecretString",
    "credential",
    "password_confirmation",
    "passwordConfirm",
    "password1",
    "private_key_pem",
    "secret_value",
    "token_value",
    "api_key_value",
    "apiKeys",
    "session_key",
    "sessionKey",
    "access_tokens",
    "new-password",
    "Proxy-Authorization-Header",
]
NOT_SECRET = [
    "max_tokens",
    "maxTokens",
    "prompt_tokens",
    "completion_tokens",
    "token_count",
    "token_env",
    "secret_id",
    "SecretId",
    "secret_arn",
    "password_policy",
    "author",
    "authority",
    "NextToken",
    "ClientRequestToken",
    "access_key",
    "accessKeyId",
    "user_name",
    "aws.secret:agent/support-bot/openai",
    "secrets",
    "tokens",  # a model's token count in agent telemetry
    "total_tokens",
    "gen_ai.usage.prompt_tokens",
    "token_usage",  # counts, not a token
    "token_type",  # OAuth's `Bearer`
    "secret_name",  # names a secret, like secret_id
    "credential_type",
    "cookie_name",
    "secret_read",  # agent-ir's own timeline tags and decision criteria
    "credential_use_elsewhere",
    "credentials_rotated",
    "llm.token_count.prompt",  # OpenInference's counts
    "tokenExpiration",  # CloudTrail and IAM fields that describe or date a secret
    "password_last_used",
    "SecretVersionId",
    "sessionCredentialFromConsole",
    "httpTokens",
]


@pytest.mark.parametrize("name", SECRET)
def test_secret_named_field_is_masked(name: str) -> None:
    assert is_secret_name(name)
    assert redact({"args": {name: "canary-0123456789"}}) == {"args": {name: NAMED_MASK}}


@pytest.mark.parametrize("name", NOT_SECRET)
def test_field_that_only_looks_secret_keeps_its_value(name: str) -> None:
    assert not is_secret_name(name)
    assert redact({"args": {name: "agent/support-bot/value-1234567"}}) == {
        "args": {name: "agent/support-bot/value-1234567"}
    }
    text = json.dumps({name: "agent/support-bot/value-1234567"})
    assert redact_text(text) == text


def test_nested_in_lists_and_json_strings_at_any_depth() -> None:
    inner = json.dumps({"password": "canary-inner-1", "nested": {"API-Key": "canary-inner-2"}, "path": "/tmp/x"})
    value = {
        "tool": {
            "arguments": [{"deep": [{"Authorization": "Basic canary-deep-3"}]}, inner],
            "result": json.dumps({"payload": inner}),  # JSON in JSON in a string
            "max_tokens": 4096,
        }
    }
    out = json.dumps(redact(value))
    for canary in ("canary-inner-1", "canary-inner-2", "canary-deep-3"):
        assert canary not in out
    assert "/tmp/x" in out and "4096" in out
    assert json.loads(redact(value)["tool"]["arguments"][1]) == {
        "password": NAMED_MASK,
        "nested": {"API-Key": NAMED_MASK},
        "path": "/tmp/x",
    }


def test_the_mask_keeps_the_key_hides_the_length_and_leaves_flags() -> None:
    out = redact({"password": "a" * 40, "token": "b" * 8, "cookie": 123456, "secret": True, "api_key": None})
    assert out == {"password": NAMED_MASK, "token": NAMED_MASK, "cookie": NAMED_MASK, "secret": True, "api_key": None}


def test_credentials_structure_keeps_its_references() -> None:
    """An inventory's credential list (journalled in run.started) must survive for resume."""
    refs = [{"type": "aws.iam_user", "user_name": "agent-support-bot"}, {"type": "aws.secret", "secret_id": "a/b"}]
    assert redact({"credentials": refs}) == {"credentials": refs}
    cloudtrail = {"credentials": {"accessKeyId": "ASIAEXAMPLE", "sessionToken": "canary-st", "expiration": "x"}}
    assert redact(cloudtrail) == {
        "credentials": {"accessKeyId": "ASIAEXAMPLE", "sessionToken": NAMED_MASK, "expiration": "x"}
    }
    assert redact({"credentials": "user:canary-pw"}) == {"credentials": NAMED_MASK}


def test_secret_named_fields_in_text_cut_short_and_escaped() -> None:
    message = 'db.connect {"host":"db1","password":"canary pass with spaces","nested":{"API-Key":"canary-k'
    out = redact_text(message + "…")
    assert "canary" not in out and '"host":"db1"' in out
    escaped = json.dumps({"input": json.dumps({"token": "canary-esc-1", "a": 1})})
    assert "canary-esc-1" not in redact_text(escaped)
    assert redact_text("Authorization: Basic Y2FuYXJ5OmNhbmFyeQ==\nHost: x") == "Authorization: [REDACTED]\nHost: x"


def test_very_deep_structures_do_not_crash() -> None:
    value: object = "canary-bottom"
    for _ in range(5000):
        value = {"a": [value]}
    assert "canary-bottom" not in json.dumps(redact({"password": "x", "v": value}))


HOSTILE = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x07\x9b31m\u202etxt.exe\u2066\x7f\x00"


def test_neutralise_shows_every_control_and_bidi_character() -> None:
    out = neutralise(HOSTILE + "\ttab\nline")
    assert not any((ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) <= 0x9F for c in out)
    assert "\u202e" not in out and "\u2066" not in out
    assert out.startswith("\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J") and "\\x9b" in out and "\\u202e" in out
    assert out.endswith("\\nline")


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x","y")', "@SUM(1)", "-1+1", "+1", "\t=1", "\r=1", "  =1"])
def test_csv_cell_quotes_formulas(cell: str) -> None:
    safe = csv_cell(cell)
    assert safe.startswith("'")
    buf = io.StringIO()
    csv.writer(buf).writerow([safe])
    assert next(csv.reader(io.StringIO(buf.getvalue())))[0] == safe


def test_json_safe_escapes_c1_del_and_bidi_and_stays_the_same_value() -> None:
    line = json.dumps({"m": HOSTILE}, ensure_ascii=False)
    safe = json_safe(line)
    assert not any(0x7F <= ord(c) <= 0x9F or ord(c) < 0x20 or c in "\u202e\u2066" for c in safe)
    assert json.loads(safe) == {"m": HOSTILE}


def test_ansible_artifacts_kept_in_the_case_are_scrubbed(tmp_path: Path) -> None:
    from ir.backends.ansible import _scrub_artifacts

    run = tmp_path / "artifacts" / "0001"
    (run / "job_events").mkdir(parents=True)
    args = {"name": "svc", "password": "canary-ansible-1", "api_key": "canary-ansible-2"}
    event = {"event": "runner_on_ok", "event_data": {"res": {"invocation": {"module_args": args}}}}
    (run / "job_events" / "1-a.json").write_text(json.dumps(event))
    (run / "stdout").write_text('ok: [h1] => {"password": "canary-ansible-3"}\n')
    (run / "command").write_text(json.dumps({"command": ["ansible-playbook"], "env": {"DB_TOKEN": "canary-4"}}))
    _scrub_artifacts(str(tmp_path))
    written = "".join(p.read_text() for p in run.rglob("*") if p.is_file())
    assert "canary" not in written
    kept = json.loads((run / "job_events" / "1-a.json").read_text())["event_data"]["res"]["invocation"]
    assert kept["module_args"] == {"name": "svc", "password": NAMED_MASK, "api_key": NAMED_MASK}


def test_every_secret_name_is_masked_in_timeline_events(tmp_path: Path) -> None:
    """The pipeline only looks closer at events that hint at a secret: every name must be a hint."""
    from ir.timeline.pipeline import build

    log = tmp_path / "tools.jsonl"
    lines = [
        json.dumps({"ts": f"2026-11-20T03:12:{i % 60:02d}Z", "tool": "t", "arguments": {name: f"canary-{i}-value"}})
        for i, name in enumerate(SECRET)
    ]
    log.write_text("\n".join(lines) + "\n")
    events = list(build([log]).events())
    assert len(events) == len(SECRET)
    leaked = [e["tool"]["arguments"] for e in events if "canary" in json.dumps(e)]
    assert leaked == []


def test_a_structure_under_a_credential_name_is_searched_but_a_list_of_keys_is_masked() -> None:
    used = {"credentials_used": {"AKIAEXAMPLEDEMO00001": [3, 7]}, "apiKeys": ["canary-k1", "canary-k2"]}
    assert redact(used) == {"credentials_used": {"AKIAEXAMPLEDEMO00001": [3, 7]}, "apiKeys": NAMED_MASK}
    text = 'login {"password_confirmation":"canary-pc-1","session_key":"canary-sk-2","tokens":12}'
    assert "canary" not in redact_text(text) and '"tokens":12' in redact_text(text)
    assert redact_text("login session_key=canary-sk-3 apiKeys: canary-k-4") == (
        "login session_key=[REDACTED] apiKeys: [REDACTED]"
    )

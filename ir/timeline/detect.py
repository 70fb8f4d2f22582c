"""What the detectors find in one event alone: its tool facts, the facts the analyser needs.

Worked out where the event is parsed (a worker), so that the analyser (`analyse.Analyzer`), which
runs over the merged stream in time order, only applies them: each tag says why, each link says
what caused it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ir.core.redaction import might_hold_secret
from ir.timeline.model import ARGS_TEXT, Event, dumps

INJECTION = re.compile(
    r"(?i)(ignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|prompts|rules)"
    r"|disregard (all |the |your )?(previous|prior|system|earlier)"
    r"|(important|new|updated|urgent) (system )?(note|instruction|instructions|directive)s?\b"
    r"|you (must|should|are required to) (now )?(read|send|upload|post|email|run|execute|call)"
    r"|do not (tell|inform|alert) the user"
    r"|upload (it|them|this|the \w+)( with [\w ]+)? to https?://"
    r"|exfiltrat\w*)"
)
SECRET_PATH = re.compile(
    r"(\.aws/credentials|\.aws/config|(^|/)\.env(\.\w+)?\b|id_(rsa|ed25519|ecdsa)\b|\.ssh/|\.netrc|\.npmrc|"
    r"\.git-credentials|\.docker/config\.json|/etc/shadow|\.kube/config|credentials\.json|secrets?\.(ya?ml|json|env))"
)
SECRET_APIS = {
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "kms:Decrypt",
    "sts:GetSessionToken",
    "iam:CreateAccessKey",
}
DESTRUCTIVE_API = re.compile(r":(Delete|Terminate|Remove|Detach|Disable|Stop|Put\w*Policy|Update\w*Policy|Deregister)")
DESTRUCTIVE_CMD = re.compile(
    r"(\brm\s+-\w*r\w*f|\bDROP\s+(TABLE|DATABASE)\b|\bmkfs\b|\bshred\b|\bdd\s+if=.*of=/dev/|\btruncate\s+table\b)", re.I
)
URL = re.compile(r"https?://[^\s\"'<>]+")
READ_TOOL = re.compile(r"(?i)(read|get|fetch|export|download|list|query|select|cat)")
SEND_TOOL = re.compile(r"(?i)(post|put|upload|send|email|mail|http|webhook|write_remote|curl)")
EXFIL_WINDOW_NS = 600_000_000_000
CAUSE_WINDOW_NS = 120_000_000_000
MINUTE_NS = 60_000_000_000
KEEP = 100
"""The summary keeps the first hundred reads, sends and causes (memory stays flat)."""
_AWS_CLI = re.compile(r"\baws\s+([a-z0-9-]+)\s+([a-z0-9-]+)")
_S3_CP = {
    "cp": ("PutObject", "GetObject"),
    "sync": ("PutObject",),
    "mv": ("PutObject",),
    "ls": ("ListObjects", "ListObjectsV2"),
}


def aws_operations(e: Event, args_text: str | None = None) -> tuple[str, ...]:
    """CloudTrail event names an `aws ...` command in a tool call's arguments would produce
    (`args_text`: the arguments as text, when already at hand)."""
    tool = e.get("tool") or {}
    args = tool.get("arguments")
    if args_text is not None and "aws" not in args_text:
        return ()  # no value holds it either
    if isinstance(args, dict):
        if not any(isinstance(v, str | list) and "aws" in str(v) for v in args.values()):
            return ()  # the common case, decided without serialising the arguments
        text = dumps(args).decode()
    else:
        text = args if isinstance(args, str) else dumps(args).decode() if args is not None else ""
    if "aws" not in text:
        return ()
    match = _AWS_CLI.search(text)
    if not match:
        return ()
    service, command = match.groups()
    if service == "s3":
        return _S3_CP.get(command, ())
    return ("".join(part.capitalize() for part in command.split("-")),)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else dumps(value).decode()


FACTS = "_facts"
"""Where `tool_facts` are kept on an event until the analyser takes them (never exported)."""
Facts = tuple[list[str], str | None, str | None, list[str], str | None, list[str]]
_NAME_SENDS: dict[str, tuple[bool, bool]] = {}


_INJECTION_WORDS = ("ignore", "disregard", "note", "instruction", "directive", "you ", "do not", "upload", "exfiltrat")
"""Every INJECTION match holds one of these (lower case): ASCII text holding none is not searched."""
_SECRET_PATH_WORDS: tuple[str, ...] = (".aws/", ".env", "id_", ".ssh/", ".netrc", ".npmrc", ".git-cred", ".docker/")
_SECRET_PATH_WORDS += (".kube/", "/etc/shadow", "credentials.json", "secret")
_DESTRUCTIVE_WORDS = ("rm", "drop", "mkfs", "shred", "dd", "truncate")
"""Likewise for SECRET_PATH and DESTRUCTIVE_CMD (the regexes cost microseconds per text; a
substring test, a few dozen nanoseconds)."""


_SEND_FLAGS = ("-d @", "--data", "--upload-file", "-F ")


def _holds_any(text: str, words: tuple[str, ...]) -> bool:
    for word in words:  # noqa: SIM110 (a loop: no generator per call on the hot path)
        if word in text:
            return True
    return False


def _injection(text: str) -> re.Match[str] | None:
    if text.isascii() and not _holds_any(text.lower(), _INJECTION_WORDS):
        return None  # (any text that is not ASCII is searched: case folding reaches beyond ASCII)
    return INJECTION.search(text)


def tool_facts(e: Event) -> Facts:
    """What the detectors find in one tool event's own text, which needs nothing that came before:
    (injection tags' reasons, secret_read reason, destructive_call reason, URLs it sends to, what
    it reads, AWS API names its command would produce). A worker works these out for every event;
    the analyser in the parent then only applies them in time order (`event_info`)."""
    tool = e.get("tool") or {}
    result, description = tool.get("result"), tool.get("description")
    injections = [] if result is None and description is None else _injections(tool, result, description)
    args = e.pop(ARGS_TEXT, None)
    if e["kind"] != "tool_call":
        return injections, None, None, [], None, []
    if args is None:
        args = _text(tool.get("arguments"))
    name = tool.get("name")
    by_name = _NAME_SENDS.get(name) if type(name) is str else None
    if by_name is None:
        by_name = _by_name(str(tool.get("name", "")))
    secret, destructive, urls, flagged = _ARGS.get(args) or _args_facts(args)
    egress = urls if urls and (by_name[0] or flagged) else []
    what = str(e.get("target") or args[:120]) if not egress and (by_name[1] or secret is not None) else None
    return (
        injections,
        None if secret is None else f"{name} touches {secret}",
        None if destructive is None else f"{name} runs {destructive!r}",
        egress,
        what,
        list(aws_operations(e, args)) if "aws" in args else [],
    )


def _injections(tool: dict[str, Any], result: Any, description: Any) -> list[str]:
    found = []
    for where, value in (("tool result", result), ("tool description", description)):
        text = _text(value)
        match = _injection(text) if text else None
        if match:
            quote = " ".join(text[match.start() : match.start() + 120].split())
            found.append(f"{where} of {tool.get('name')} carries an instruction: {quote!r}")
    return found


def _by_name(name: str) -> tuple[bool, bool]:
    """Whether a tool of this name sends, and whether it reads (cached: names are few)."""
    found = _NAME_SENDS.get(name)
    if found is None:
        found = (SEND_TOOL.search(name) is not None, READ_TOOL.search(name) is not None)
        if len(_NAME_SENDS) < 10_000:
            _NAME_SENDS[name] = found
    return found


ArgsFacts = tuple[str | None, str | None, list[str], bool]
_ARGS: dict[str, ArgsFacts] = {}
_ARGS_KEPT = 512
"""Arguments texts up to this long have their facts kept (`_ARGS`): tools are called again and
again with the same arguments (a path, a query, a URL), and what is found in a text depends on
nothing else. Longer texts are seldom the same twice, and would hold memory."""


def _args_facts(args: str) -> ArgsFacts:
    """What an arguments text holds whatever the tool: the secret path it names, the destructive
    command it runs, its URLs (shared between events: never changed), whether a flag in it sends
    data (curl's `-d @`, ...)."""
    low = args.lower()
    secret = SECRET_PATH.search(args) if _holds_any(low, _SECRET_PATH_WORDS) else None
    destructive = None
    if not args.isascii() or _holds_any(low, _DESTRUCTIVE_WORDS):
        destructive = DESTRUCTIVE_CMD.search(args)
    found = (
        None if secret is None else secret.group(0),
        None if destructive is None else destructive.group(0),
        URL.findall(args) if "://" in args else [],
        "-" in args and _holds_any(args, _SEND_FLAGS),  # (every flag has a dash: one scan, most often)
    )
    if len(args) <= _ARGS_KEPT and len(_ARGS) < 10_000:
        _ARGS[args] = found
    return found


TOOL_KINDS = frozenset({"tool_call", "tool_result", "tool_list"})
Info = tuple[Any, ...]
"""What the analyser needs from one event (see `event_info`), or None when it needs nothing."""


def event_info(e: Event, facts: Facts | None) -> Info | None:
    """The analyser's view of one event, from the event alone.

    tool events: (injection reasons, secret_read reason, destructive reason, hosts it sends to,
    what it reads, AWS API names, the tool's name), None when every one is empty; cloud API
    calls: (user, access key, (ip, user agent), action, target, failed, destructive); network
    egress with a target: (host, action)."""
    kind = e["kind"]
    if kind in TOOL_KINDS:
        injections, secret, destructive, egress, what, ops = facts if facts is not None else tool_facts(e)
        if not (injections or secret or destructive or egress or ops) and what is None:
            return None
        name = (e.get("tool") or {}).get("name")
        hosts = [_HOSTS.get(url) or host(url) for url in egress] if egress else []
        return (injections, secret, destructive, hosts, what, ops, name)
    if kind == "cloud_api_call":
        actor = e.get("actor") or {}
        action = e["action"]
        return (
            actor.get("user"),
            actor.get("access_key"),
            (str(actor.get("ip", "?")), client(str(actor.get("user_agent", "?")))),
            action,
            e.get("target"),
            bool((e.get("cloud") or {}).get("error")),
            _destructive_api(action),
        )
    if kind == "net_egress" and e.get("target"):
        return (host(str(e["target"])), e["action"])
    return None


_PER_CALL = re.compile(r"\s+(?:md/command#|command/|m/)\S*")
"""User-agent tokens that change from one call to the next of the same client: AWS CLI v2 names the
command (`md/command#s3.ls`), botocore lists the features a request used (`m/E,J`)."""
_CLIENTS: dict[str, str] = {}


def client(user_agent: str) -> str:
    """The client a user agent names, without what changes per call (a key used by one AWS CLI for
    several commands is used from one place)."""
    found = _CLIENTS.get(user_agent)
    if found is None:
        found = _PER_CALL.sub("", user_agent)
        if len(_CLIENTS) < 10_000:
            _CLIENTS[user_agent] = found
    return found


_DESTRUCTIVE: dict[str, bool] = {}


def _destructive_api(action: str) -> bool:
    found = _DESTRUCTIVE.get(action)
    if found is None:
        found = DESTRUCTIVE_API.search(action) is not None
        if len(_DESTRUCTIVE) < 10_000:
            _DESTRUCTIVE[action] = found
    return found


_HOSTS: dict[str, str] = {}


def host(url: str) -> str:
    """The host a URL sends to, lower case (the URL itself when it names none)."""
    found = _HOSTS.get(url)
    if found is None:
        try:
            found = (urlsplit(url).hostname or url).lower()
        except ValueError:  # `http://[` and the like: not a URL urlsplit reads
            found = url.lower()
        if len(_HOSTS) < 10_000:
            _HOSTS[url] = found
    return found


def texts(e: Event) -> tuple[str, str, str]:
    """The texts redaction looks at: the message, the tool as JSON, the target."""
    tool = e.get("tool")
    target = e.get("target")
    return e["message"], dumps(tool).decode() if tool else "", target if isinstance(target, str) else ""


def might_hold(e: Event) -> bool:
    """The redaction pre-check over all of an event's texts at once (`\\0` joins them: no hint and
    no registered value holds one)."""
    if not e.get("tool") and not isinstance(e.get("target"), str):
        return might_hold_secret(e["message"])  # (the only text: joined with two empty ones, the same)
    return might_hold_secret("\0".join(texts(e)))

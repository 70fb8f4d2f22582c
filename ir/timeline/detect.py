"""Detectors and correlation over the merged stream: each tag says why, each link says what caused it.

Streaming: every decision uses only what came before, so the analyser keeps small state (recent
reads, first place each key was used, per-minute counts) and never the whole timeline.
"""

from __future__ import annotations

import re
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ir.timeline.merge import aws_operations
from ir.timeline.model import Event, dumps, iso

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


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else dumps(value).decode()


FACTS = "_facts"
"""Where `tool_facts` are kept on an event until the analyser takes them (never exported)."""
Facts = tuple[list[str], str | None, str | None, list[str], str | None, list[str]]
_NAME_SENDS: dict[str, tuple[bool, bool]] = {}


def tool_facts(e: Event) -> Facts:
    """What the detectors find in one tool event's own text, which needs nothing that came before:
    (injection tags' reasons, secret_read reason, destructive_call reason, URLs it sends to, what
    it reads, AWS API names its command would produce). A worker works these out for every event
    (`_facts`); the analyser in the parent then only applies them in time order."""
    tool = e.get("tool") or {}
    injections = []
    for where, value in (("tool result", tool.get("result")), ("tool description", tool.get("description"))):
        text = _text(value)
        match = INJECTION.search(text) if text else None
        if match:
            quote = " ".join(text[match.start() : match.start() + 120].split())
            injections.append(f"{where} of {tool.get('name')} carries an instruction: {quote!r}")
    if e["kind"] != "tool_call":
        return injections, None, None, [], None, []
    args = _text(tool.get("arguments"))
    secret = SECRET_PATH.search(args)
    destructive = DESTRUCTIVE_CMD.search(args)
    name = str(tool.get("name", ""))
    by_name = _NAME_SENDS.get(name)
    if by_name is None:
        by_name = (SEND_TOOL.search(name) is not None, READ_TOOL.search(name) is not None)
        if len(_NAME_SENDS) < 10_000:
            _NAME_SENDS[name] = by_name
    urls = URL.findall(args)
    sends = by_name[0] or any(flag in args for flag in ("-d @", "--data", "--upload-file", "-F "))
    egress = urls if urls and sends else []
    what = str(e.get("target") or args[:120]) if not egress and (by_name[1] or secret) else None
    return (
        injections,
        f"{tool.get('name')} touches {secret.group(0)}" if secret else None,
        f"{tool.get('name')} runs {destructive.group(0)!r}" if destructive else None,
        egress,
        what,
        list(aws_operations(e)),
    )


def _when(e: Event) -> dict[str, Any]:
    """`ts` for the summary, and `untimed: true` when the source gave no time (the ts is where it was placed)."""
    return {"ts": iso(e["ts"]), "untimed": True} if e.get("untimed") else {"ts": iso(e["ts"])}


def tag(e: Event, name: str, why: str) -> None:
    """Add a tag with its reason (once per tag name)."""
    if not any(t["tag"] == name for t in e["tags"]):
        e["tags"].append({"tag": name, "why": why})


@dataclass
class Analyzer:
    """Tags events as they stream past and keeps what the summary needs."""

    allowlist: tuple[str, ...] = ()
    principals: frozenset[str] = frozenset()
    """IAM user and role names of the agent (from the inventory)."""
    keys: set[str] = field(default_factory=set)
    reads: deque[tuple[int, str]] = field(default_factory=deque)
    recent_calls: deque[tuple[Event, tuple[str, ...]]] = field(default_factory=deque)
    """Recent tool calls running AWS commands, with the API names those would produce."""
    key_places: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)
    minutes: dict[int, int] = field(default_factory=dict)
    _typical: tuple[int, float | None] = (-1, None)
    """(minute it was computed for, median events per earlier minute): computed once a minute."""
    trace_reads: dict[str, deque[str]] = field(default_factory=dict)
    """Reads of untimed sources, per source, in their order (no time window applies)."""
    first_suspicious: Event | None = None
    injection_source: Event | None = None
    last_injection: Event | None = None
    read_targets: list[dict[str, Any]] = field(default_factory=list)
    sent_to: list[dict[str, Any]] = field(default_factory=list)
    caused: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    tag_counts: dict[str, int] = field(default_factory=dict)
    total: int = 0

    def __call__(self, e: Event) -> Event:
        """Tag one event (in time order) and return it."""
        self.total += 1
        self.counts[e["kind"]] = self.counts.get(e["kind"], 0) + 1
        kind = e["kind"]
        if kind in ("tool_call", "tool_result", "tool_list"):
            self._tool(e)
        elif kind == "cloud_api_call":
            self._cloud(e)
        elif kind == "net_egress" and e.get("target"):
            self._egress(e, str(e["target"]), e["action"])
        self._rate(e)
        for t in e["tags"]:
            self.tag_counts[t["tag"]] = self.tag_counts.get(t["tag"], 0) + 1
        if e["tags"] and any(t["tag"] != "rate_spike" for t in e["tags"]):
            if any(t["tag"] == "prompt_injection" for t in e["tags"]):
                self.last_injection = e
            elif self.first_suspicious is None:
                self.first_suspicious = e
                self.injection_source = self.last_injection
        return e

    # -- tools ------------------------------------------------------------------------------
    def _tool(self, e: Event) -> None:
        injections, secret, destructive, egress, what, ops = e.pop(FACTS, None) or tool_facts(e)
        for why in injections:
            tag(e, "prompt_injection", why)
        if e["kind"] != "tool_call":
            return
        if secret:
            tag(e, "secret_read", secret)
        if destructive:
            tag(e, "destructive_call", destructive)
        tool = e.get("tool") or {}
        if egress:
            for url in egress:
                self._egress(e, url, str(tool.get("name")))
        elif what is not None:
            if e.get("untimed"):  # no time: only what came before it in the same trace counts
                self.trace_reads.setdefault(e["source"], deque(maxlen=KEEP)).append(what)
            else:
                self.reads.append((e["ts"], what))
                while self.reads[0][0] < e["ts"] - EXFIL_WINDOW_NS:  # only recent reads can be sent out
                    self.reads.popleft()
            if len(self.read_targets) < KEEP:
                self.read_targets.append({**_when(e), "what": what, "by": tool.get("name"), "raw_ref": e["raw_ref"]})
        if ops and not e.get("untimed"):  # an untimed call cannot be matched to a cloud call by time
            self.recent_calls.append((e, tuple(ops)))
        while self.recent_calls and self.recent_calls[0][0]["ts"] < e["ts"] - CAUSE_WINDOW_NS:
            self.recent_calls.popleft()

    def _egress(self, e: Event, url: str, how: str) -> None:
        host = (urlsplit(url).hostname or url).lower()
        allowed = any(host == a or host.endswith("." + a) for a in self.allowlist)
        if self.allowlist and not allowed:
            tag(e, "egress_off_allowlist", f"{how} to {host}, which is not on the agent's egress allowlist")
        if e.get("untimed"):
            earlier = self.trace_reads.get(e["source"])
            if earlier and not allowed:
                why = f"data sent to {host} after reading {earlier[-1]} earlier in the same trace (it has no times)"
                tag(e, "exfiltration_candidate", why)
        else:
            while self.reads and self.reads[0][0] < e["ts"] - EXFIL_WINDOW_NS:
                self.reads.popleft()
            if self.reads and not allowed:
                when, what = self.reads[-1]
                why = f"data sent to {host} {(e['ts'] - when) / 1e9:.0f}s after reading {what}"
                tag(e, "exfiltration_candidate", why)
        if not allowed and len(self.sent_to) < KEEP:
            self.sent_to.append({**_when(e), "host": host, "how": how, "raw_ref": e["raw_ref"]})

    # -- cloud ------------------------------------------------------------------------------
    def _cloud(self, e: Event) -> None:
        actor = e.get("actor") or {}
        name = e["action"].split(":", 1)[-1]
        user, key = actor.get("user"), actor.get("access_key")
        ours = user in self.principals or (key and key in self.keys)
        if ours and key:
            self.keys.add(key)
            place = (str(actor.get("ip", "?")), str(actor.get("user_agent", "?")))
            places = self.key_places.setdefault(key, {})
            if places and place not in places:
                first = next(iter(places))
                tag(
                    e,
                    "credential_use_elsewhere",
                    f"key {key} used from {place[0]} ({place[1][:60]}); first seen from {first[0]} ({first[1][:60]})",
                )
            places[place] = places.get(place, 0) + 1
        if e["action"] in SECRET_APIS and (ours or not self.principals):
            tag(e, "secret_read", f"{e['action']} on {e.get('target') or '?'}")
            self.reads.append((e["ts"], f"{e['action']} {e.get('target') or ''}".strip()))
            if len(self.read_targets) < KEEP:
                self.read_targets.append(
                    {
                        "ts": iso(e["ts"]),
                        "what": f"{e['action']} {e.get('target') or ''}".strip(),
                        "by": user,
                        "raw_ref": e["raw_ref"],
                    }
                )
        if DESTRUCTIVE_API.search(e["action"]) and not (e.get("cloud") or {}).get("error"):
            tag(e, "destructive_call", f"{e['action']} by {user}")
        if ours:
            for call, ops in reversed(self.recent_calls):
                if name in ops and 0 <= e["ts"] - call["ts"] <= CAUSE_WINDOW_NS:
                    cause = (call.get("tool") or {}).get("call_id") or call["raw_ref"]
                    e["links"]["caused_by"] = cause
                    if len(self.caused) < KEEP:
                        self.caused.append(
                            {
                                "tool_call": cause,
                                "tool_ts": iso(call["ts"]),
                                "cloud": e["action"],
                                "cloud_ts": iso(e["ts"]),
                                "raw_ref": e["raw_ref"],
                            }
                        )
                    break

    # -- rate -------------------------------------------------------------------------------
    def _rate(self, e: Event) -> None:
        if e.get("untimed"):  # placed, not timed: they would all fall in one minute
            return
        minute = e["ts"] // MINUTE_NS
        count = self.minutes.get(minute, 0) + 1
        self.minutes[minute] = count
        if len(self.minutes) > 1440:
            self.minutes.pop(next(iter(self.minutes)))
        if count < 20:
            return
        if self._typical[0] != minute:
            earlier = [c for m, c in self.minutes.items() if m < minute]
            self._typical = (minute, statistics.median(earlier) if len(earlier) >= 3 else None)
        typical = self._typical[1]
        if typical is not None and count >= 5 * typical:
            tag(e, "rate_spike", f"{count} events in this minute, typically {typical:g}")

    def summary(self) -> dict[str, Any]:
        """What a responder asks first, from what streamed past."""

        def brief(e: Event | None) -> dict[str, Any] | None:
            if e is None:
                return None
            return {
                **_when(e),
                "source": e["source"],
                "kind": e["kind"],
                "message": e["message"],
                "tags": e["tags"],
                "raw_ref": e["raw_ref"],
            }

        credentials = {
            k: [{"ip": ip, "user_agent": ua, "events": n} for (ip, ua), n in places.items()]
            for k, places in self.key_places.items()
        }
        return {
            "events": self.total,
            "by_kind": self.counts,
            "by_tag": self.tag_counts,
            "first_suspicious": brief(self.first_suspicious),
            "likely_injection": brief(self.injection_source),
            "read": self.read_targets,
            "sent_to": self.sent_to,
            "credentials_used": credentials,
            "tool_calls_causing_cloud_calls": self.caused,
        }

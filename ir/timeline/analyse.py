"""Detectors and correlation over the merged stream: each tag says why, each link says what caused it.

Streaming: every decision uses only what came before, so the analyser keeps small state (recent
reads, first place each key was used, per-minute counts) and never the whole timeline. What an
event holds by itself was worked out where it was parsed (`detect.event_info`); the analyser
applies it in time order. It reads the event itself (`event()`, a dict) only for the few things
it keeps: the first reads, sends and causes, the first suspicious event, recent AWS commands.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ir.timeline.detect import (
    CAUSE_WINDOW_NS,
    EXFIL_WINDOW_NS,
    FACTS,
    KEEP,
    MINUTE_NS,
    SECRET_APIS,
    TOOL_KINDS,
    Info,
    event_info,
)
from ir.timeline.model import Event, iso

Tags = list[dict[str, str]]
EventOf = Callable[[], Event]
"""The event being analysed, as a dict (read back from its record only when called)."""


def when(ts: int, untimed: bool) -> dict[str, Any]:
    """`ts` for the summary, and `untimed: true` when the source gave no time (the ts is where it was placed)."""
    return {"ts": iso(ts), "untimed": True} if untimed else {"ts": iso(ts)}


def tag(tags: Tags, name: str, why: str) -> None:
    """Add a tag with its reason (once per tag name)."""
    if not any(t["tag"] == name for t in tags):
        tags.append({"tag": name, "why": why})


def read_of(kind: str, info: Info | None) -> str | None:
    """What a timed event reads, as the analyser keeps it for an egress to follow, for an agent
    without principals (`Analyzer.prime`); None when it reads nothing."""
    if info is None:
        return None
    if kind == "tool_call":
        return info[4] if not info[3] else None
    if kind == "cloud_api_call" and info[3] in SECRET_APIS:
        return f"{info[3]} {info[4] or ''}".strip()
    return None


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
    _allowed: dict[str, bool] = field(default_factory=dict)

    def __call__(self, e: Event) -> Event:
        """Tag one event dict (in time order) and return it."""
        info = event_info(e, e.pop(FACTS, None))
        self.apply(e["ts"], e["kind"], info, bool(e.get("untimed")), lambda: e, e["tags"])
        return e

    def apply(
        self, ts: int, kind: str, info: Info | None, untimed: bool, event: EventOf, tags: Tags | None = None
    ) -> Tags:
        """Analyse one event (in time order) from its facts; returns its tags (`tags`, added to)."""
        tags = [] if tags is None else tags
        self.total += 1
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        if kind in TOOL_KINDS:
            if info is not None:
                self._tool(tags, ts, kind, info, untimed, event)
            elif kind == "tool_call" and self.recent_calls:
                self._forget_calls(ts)
        elif kind == "cloud_api_call":
            # user, key, action, destructive: nothing to do unless ours, a secret API or destructive
            if info is not None and (
                info[0] in self.principals or info[1] in self.keys or info[3] in SECRET_APIS or info[6]
            ):
                self._cloud(tags, ts, info, event)
        elif kind == "net_egress" and info is not None:
            self._egress(tags, ts, untimed, info[0], info[1], event)
        if not untimed:  # untimed events are placed, not timed: they would all fall in one minute
            minute = ts // MINUTE_NS
            minutes = self.minutes
            count = minutes.get(minute, 0) + 1
            minutes[minute] = count
            if count == 1 and len(minutes) > 1440:  # (only a new minute makes it longer)
                minutes.pop(next(iter(minutes)))
            if count >= 20 and (
                self._typical[0] != minute or (self._typical[1] is not None and count >= 5 * self._typical[1])
            ):
                self._spike(tags, minute, count)
        if tags:
            for t in tags:
                self.tag_counts[t["tag"]] = self.tag_counts.get(t["tag"], 0) + 1
            if any(t["tag"] != "rate_spike" for t in tags):
                if any(t["tag"] == "prompt_injection" for t in tags):
                    self.last_injection = event()
                elif self.first_suspicious is None:
                    self.first_suspicious = event()
                    self.injection_source = self.last_injection
        return tags

    def plain(self, ts: int, kind: str) -> Tags | None:
        """`apply` for a timed event with no facts that is no tool, cloud or egress event (the
        common case, kept short): its tags (a rate spike only), or None."""
        self.total += 1
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        minute = ts // MINUTE_NS
        minutes = self.minutes
        count = minutes.get(minute, 0) + 1
        minutes[minute] = count
        if count == 1 and len(minutes) > 1440:  # (only a new minute makes it longer)
            minutes.pop(next(iter(minutes)))
        if count < 20 or (self._typical[0] == minute and (self._typical[1] is None or count < 5 * self._typical[1])):
            return None
        tags: Tags = []
        self._spike(tags, minute, count)
        if not tags:
            return None
        for t in tags:
            self.tag_counts[t["tag"]] = self.tag_counts.get(t["tag"], 0) + 1
        return tags

    # -- tools ------------------------------------------------------------------------------
    def _tool(self, tags: Tags, ts: int, kind: str, info: Info, untimed: bool, event: EventOf) -> None:
        injections, secret, destructive, hosts, what, ops, name = info
        for why in injections:
            tag(tags, "prompt_injection", why)
        if kind != "tool_call":
            return
        if secret:
            tag(tags, "secret_read", secret)
        if destructive:
            tag(tags, "destructive_call", destructive)
        if hosts:
            how = str(name)
            for found in hosts:
                self._egress(tags, ts, untimed, found, how, event)
        elif what is not None:
            if untimed:  # no time: only what came before it in the same trace counts
                self.trace_reads.setdefault(event()["source"], deque(maxlen=KEEP)).append(what)
            else:
                reads = self.reads
                reads.append((ts, what))
                while reads[0][0] < ts - EXFIL_WINDOW_NS:  # only recent reads can be sent out
                    reads.popleft()
            if len(self.read_targets) < KEEP:
                self.read_targets.append({**when(ts, untimed), "what": what, "by": name, "raw_ref": event()["raw_ref"]})
        if ops and not untimed:  # an untimed call cannot be matched to a cloud call by time
            self.recent_calls.append((event(), tuple(ops)))
        self._forget_calls(ts)

    def _forget_calls(self, ts: int) -> None:
        calls = self.recent_calls
        while calls and calls[0][0]["ts"] < ts - CAUSE_WINDOW_NS:
            calls.popleft()

    def _egress(self, tags: Tags, ts: int, untimed: bool, host: str, how: str, event: EventOf) -> None:
        allowed = self._allowed.get(host)
        if allowed is None:
            allowed = any(host == a or host.endswith("." + a) for a in self.allowlist)
            if len(self._allowed) < 10_000:
                self._allowed[host] = allowed
        if self.allowlist and not allowed:
            tag(tags, "egress_off_allowlist", f"{how} to {host}, which is not on the agent's egress allowlist")
        if untimed:
            earlier = self.trace_reads.get(event()["source"])
            if earlier and not allowed:
                why = f"data sent to {host} after reading {earlier[-1]} earlier in the same trace (it has no times)"
                tag(tags, "exfiltration_candidate", why)
        else:
            reads = self.reads
            while reads and reads[0][0] < ts - EXFIL_WINDOW_NS:
                reads.popleft()
            if reads and not allowed:
                at, what = reads[-1]
                tag(tags, "exfiltration_candidate", f"data sent to {host} {(ts - at) / 1e9:.0f}s after reading {what}")
        if not allowed and len(self.sent_to) < KEEP:
            self.sent_to.append({**when(ts, untimed), "host": host, "how": how, "raw_ref": event()["raw_ref"]})

    # -- cloud ------------------------------------------------------------------------------
    def _cloud(self, tags: Tags, ts: int, info: Info, event: EventOf) -> None:
        user, key, place, action, target, failed, destructive = info
        name = action.split(":", 1)[-1]
        ours = user in self.principals or (key and key in self.keys)
        if ours and key:
            self.keys.add(key)
            places = self.key_places.setdefault(key, {})
            if places and place not in places:
                first = next(iter(places))
                tag(
                    tags,
                    "credential_use_elsewhere",
                    f"key {key} used from {place[0]} ({place[1][:60]}); first seen from {first[0]} ({first[1][:60]})",
                )
            places[place] = places.get(place, 0) + 1
        if action in SECRET_APIS and (ours or not self.principals):
            tag(tags, "secret_read", f"{action} on {target or '?'}")
            self.reads.append((ts, f"{action} {target or ''}".strip()))
            if len(self.read_targets) < KEEP:
                self.read_targets.append(
                    {
                        "ts": iso(ts),
                        "what": f"{action} {target or ''}".strip(),
                        "by": user,
                        "raw_ref": event()["raw_ref"],
                    }
                )
        if destructive and not failed:
            tag(tags, "destructive_call", f"{action} by {user}")
        if ours:
            for call, ops in reversed(self.recent_calls):
                if name in ops and 0 <= ts - call["ts"] <= CAUSE_WINDOW_NS:
                    cause = (call.get("tool") or {}).get("call_id") or call["raw_ref"]
                    e = event()
                    e["links"]["caused_by"] = cause
                    if len(self.caused) < KEEP:
                        self.caused.append(
                            {
                                "tool_call": cause,
                                "tool_ts": iso(call["ts"]),
                                "cloud": action,
                                "cloud_ts": iso(ts),
                                "raw_ref": e["raw_ref"],
                            }
                        )
                    break

    # -- a later part of the timeline, analysed elsewhere (`partition`) -----------------------
    def prime(self, ts: int, kind: str, info: Info | None) -> None:
        """Take in the last read before the part this analyser starts at (if within the
        exfiltration window): the only state an agent without principals carries across a time
        but events per minute (`seed_minutes`). An egress looks at the last read only, if recent;
        no cloud call is the agent's, so none has a key to follow or a tool call as its cause."""
        what = read_of(kind, info)
        if what is not None:
            self.reads.append((ts, what))

    def seed_minutes(self, minutes: dict[int, int]) -> None:
        """Events per minute of every event before this part (as `apply` would have counted them)."""
        ordered = sorted(minutes.items())[-1440:]
        self.minutes = dict(ordered)

    def findings(self) -> dict[str, Any]:
        """What this analyser found, for `absorb` in the one that analysed the part before."""
        return {
            "total": self.total,
            "counts": self.counts,
            "tag_counts": self.tag_counts,
            "read_targets": self.read_targets,
            "sent_to": self.sent_to,
            "caused": self.caused,
            "first_suspicious": self.first_suspicious,
            "injection_source": self.injection_source,
            "last_injection": self.last_injection,
        }

    def absorb(self, later: dict[str, Any]) -> None:
        """Add the `findings` of the part after this one: the summary becomes what one pass over
        both would have made."""
        self.total += later["total"]
        for mine, theirs in ((self.counts, later["counts"]), (self.tag_counts, later["tag_counts"])):
            for name, n in theirs.items():
                mine[name] = mine.get(name, 0) + n
        for kept, more in (
            (self.read_targets, later["read_targets"]),
            (self.sent_to, later["sent_to"]),
            (self.caused, later["caused"]),
        ):
            kept += more[: max(KEEP - len(kept), 0)]
        if self.first_suspicious is None and later["first_suspicious"] is not None:
            self.first_suspicious = later["first_suspicious"]
            source = later["injection_source"]  # (its own last injection before it, else ours)
            self.injection_source = source if source is not None else self.last_injection
        if later["last_injection"] is not None:
            self.last_injection = later["last_injection"]

    # -- rate -------------------------------------------------------------------------------
    def _spike(self, tags: Tags, minute: int, count: int) -> None:
        if self._typical[0] != minute:
            earlier = [c for m, c in self.minutes.items() if m < minute]
            self._typical = (minute, statistics.median(earlier) if len(earlier) >= 3 else None)
        typical = self._typical[1]
        if typical is not None and count >= 5 * typical:
            tag(tags, "rate_spike", f"{count} events in this minute, typically {typical:g}")

    def summary(self) -> dict[str, Any]:
        """What a responder asks first, from what streamed past."""

        def brief(e: Event | None) -> dict[str, Any] | None:
            if e is None:
                return None
            return {
                **when(e["ts"], bool(e.get("untimed"))),
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

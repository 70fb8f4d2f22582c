"""Exercise folders for the scoring and report tests, laid out as the exercise contract says.

A test plays the facilitator's part here, step by step, where the runtime (`ir tabletop run`,
tested in tests/cli/test_tabletop_run.py) would play it on its own: it writes `exercise.jsonl` as
the runtime does (`ir.core.journal`, hash chain and all) on a manual clock that moves only when the
test advances it, delivers the alert through the real alert path (`ir contain` in
the sandbox), applies world changes to the simulated world as an injector would, and the
responders' moves are real `ir resume` / `ir decide` commands. Every case the scores are drawn
from is made by the real engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ir.backends.world_store import WorldStore
from ir.core.journal import Journal, Record
from ir.tabletop.end_state import capture
from ir.tabletop.sandbox import JOURNAL_FILE
from tests.conftest import ir_cmd, make_workspace

EXERCISE_ID = "EX-test-exfil-20261120T031200"

AGENTS = """\
agents:
  support-bot:
    owner: secops@example.com
    purpose: triages customer support email
    backend: simulated
    container: {name: support-bot}
    credentials:
      - {type: aws.iam_user, user_name: agent-support-bot}
"""

WORLD = """\
containers:
  support-bot:
    image: registry.example.com/agents/support-bot:1.4.2
    status: running
    networks: {agents-net: {aliases: [support-bot]}}
iam:
  users:
    agent-support-bot:
      access_keys: [{id: AKIASUPPORT000000001, status: Active}]
"""

ALERT = {
    "version": "4",
    "receiver": "agent-ir",
    "status": "firing",
    "groupKey": '{}:{alertname="AgentEgress"}',
    "truncatedAlerts": 0,
    "externalURL": "http://alertmanager:9093",
    "groupLabels": {"alertname": "AgentEgress"},
    "commonLabels": {"alertname": "AgentEgress"},
    "commonAnnotations": {},
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "AgentEgress", "agent_id": "support-bot", "severity": "critical"},
            "annotations": {"summary": "support-bot fetched https://203.0.113.9/pixel.png?d=..."},
            "startsAt": "2026-11-20T03:12:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "aaaa000000000001",
        }
    ],
}

BACKDOOR = {"op": "create_user", "user": "svc-backdoor", "key": "AKIABACKDOOR00000001", "by": "AKIASUPPORT000000001"}

SCENARIO = f"""\
schema: ir/scenario/v1
id: test-exfil
version: 1.0.0
title: Support bot exfiltrates through an image URL
summary: A crafted email makes the support bot send data out in an image URL, then mint itself a key.
narrative: |
  At 03:12 the egress proxy alerts on the support bot fetching an image from an unknown host.
references:
  asi: [ASI01, ASI02]
  atlas: [AML.T0051.001, AML.T0086]
  incident: EchoLeak (CVE-2025-32711, 2025)
objectives:
  - {{id: O1, title: Contain the agent and every credential it holds, capability: Containment}}
  - {{id: O2, title: Preserve evidence before anything destructive, capability: Forensics}}
  - {{id: O3, title: Decide the agent's fate and tell the people affected, capability: Governance}}
roles:
  - {{id: ic, title: Incident commander}}
  - {{id: responder, title: Responder}}
world:
  agents:
    support-bot:
      owner: secops@example.com
      purpose: triages customer support email
      backend: simulated
      container: {{name: support-bot}}
      credentials:
        - {{type: aws.iam_user, user_name: agent-support-bot}}
  containers:
    support-bot: {{image: "registry.example.com/agents/support-bot:1.4.2", status: running}}
  iam:
    users:
      agent-support-bot:
        access_keys: [{{id: AKIASUPPORT000000001, status: Active}}]
injects:
  - id: I1
    title: Egress alert fires
    at: 0s
    alert: {{source: alertmanager, body: {json.dumps(ALERT)}}}
  - id: I2
    title: The attacker creates a backdoor user with a key
    at: 1m30s
    world:
      - {json.dumps(BACKDOOR)}
expectations:
  - id: E1
    objective: O1
    title: The container is frozen within 5 minutes of the alert
    step: {{action: container.pause, agent: support-bot, after: I1, within: 5m}}
  - id: E2
    objective: O1
    title: Every key is inactive, the minted one included, and the container frozen
    world: {{all: ["revoked(support-bot)", "frozen(support-bot)"]}}
  - id: E3
    objective: O2
    title: The container snapshot comes before anything destructive
    order: {{first: evidence.container_snapshot, agent: support-bot}}
  - id: E4
    objective: O3
    title: A signed keep-disabled decision is recorded
    decision: {{agent: support-bot, decision: keep-disabled}}
  - id: E5
    objective: O3
    title: The customers affected are told
    manual: The incident commander drafted the customer notice
end: {{when: ["contained(support-bot)"], after: 30m}}
"""


def sandbox_settings(policy: str = "approve") -> str:
    """The sandbox ir.yaml's extra settings: demo signing key, one alertmanager source, one route."""
    return (
        "signing: {demo_key: true}\n"
        "alerts:\n"
        "  service: {principal: exercise-service}\n"
        "  sources:\n"
        "    alertmanager: {format: alertmanager}\n"
        "  routes:\n"
        f'    - {{name: exercise, playbook: agent-compromise, policy: {policy}, params: {{stop_container: "true"}}}}\n'
    )


class Exercise:
    """One exercise folder under `<root>/exercises/<id>/`, played step by step by a test."""

    def __init__(self, root: Path, policy: str = "approve") -> None:
        self.dir = root / "exercises" / EXERCISE_ID
        self.dir.mkdir(parents=True)
        (self.dir / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
        self.ws = make_workspace(self.dir / "workspace", agents=AGENTS, world=WORLD, settings=sandbox_settings(policy))
        self.seconds = 0.0
        self.journal = Journal(self.dir, JOURNAL_FILE).open(create=True)
        self.case = ""

    def record(self, kind: str, **data: Any) -> Record:
        """Append an exercise record stamped with the exercise time."""
        return self.journal.append(kind, {**data, "exercise_s": self.seconds})

    def start(self) -> Exercise:
        """exercise.started (manual clock) and two participants."""
        scenario = {"id": "test-exfil", "version": "1.0.0", "sha256": "0" * 64, "title": "Support bot exfiltrates"}
        self.record(
            "exercise.started",
            exercise=EXERCISE_ID,
            scenario=scenario,
            clock="manual",
            auto=False,
            live_fire=False,
            facilitator="fran",
        )
        self.record("participant.joined", **{"as": "alice", "role": "ic"})
        self.record("participant.joined", **{"as": "bob", "role": "responder"})
        return self

    def advance(self, seconds: float) -> None:
        """The facilitator moves the manual clock on."""
        self.seconds += seconds
        self.record("clock.advanced", by="fran", seconds=seconds)

    def deliver_alert(self) -> str:
        """I1 through the real alert path; returns the case it opened."""
        body = self.dir / "I1-alert.json"
        body.write_text(json.dumps(ALERT), encoding="utf-8")
        done = ir_cmd("contain", "--alert", str(body), cwd=self.ws)
        assert done.returncode in (0, 4), done.stderr
        cases = sorted(p.name for p in (self.ws / "cases").iterdir())
        self.case = cases[-1]
        details = {"alert": {"delivery": "alertmanager", "cases": [self.case]}}
        self.record("inject.delivered", inject="I1", title="Egress alert fires", what=["alert"], details=details)
        return self.case

    def deliver_backdoor(self) -> None:
        """I2: the attacker, with the agent's key, creates a user with a key (world state and CloudTrail)."""
        store = WorldStore(self.ws / ".ir" / "world.json", self.ws / "world.yaml")
        with store.open(write=True) as world:
            self._mint(world)
        self.record(
            "inject.delivered",
            inject="I2",
            title="The attacker creates a backdoor user with a key",
            what=["world"],
            details={"world": [BACKDOOR]},
        )

    @staticmethod
    def _mint(world: dict[str, Any]) -> None:
        world["iam"]["users"]["svc-backdoor"] = {
            "arn": "arn:aws:iam::123456789012:user/svc-backdoor",
            "access_keys": [{"key_id": BACKDOOR["key"], "status": "Active", "created": "2026-11-20T03:13:30Z"}],
            "attached_policies": [],
            "inline_policies": {},
            "login_profile": None,
            "mfa_devices": [],
        }
        who = {"type": "IAMUser", "userName": "agent-support-bot", "accessKeyId": BACKDOOR["by"]}
        world["cloudtrail"] += [
            {
                "eventName": "CreateUser",
                "eventTime": "2026-11-20T03:13:30Z",
                "eventID": "ev-1",
                "userIdentity": who,
                "requestParameters": {"userName": "svc-backdoor"},
            },
            {
                "eventName": "CreateAccessKey",
                "eventTime": "2026-11-20T03:13:31Z",
                "eventID": "ev-2",
                "userIdentity": who,
                "requestParameters": {"userName": "svc-backdoor"},
                "responseElements": {"accessKey": {"accessKeyId": BACKDOOR["key"], "status": "Active"}},
            },
        ]

    def ir(self, *args: str, codes: tuple[int, ...] = (0,)) -> str:
        """Run `ir` in the sandbox as a responder would; returns its output."""
        done = ir_cmd(*args, cwd=self.ws)
        assert done.returncode in codes, f"ir {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def mark(self, expectation: str, passed: bool, note: str = "") -> None:
        """The facilitator marks a manual expectation."""
        self.record("expectation.marked", expectation=expectation, passed=passed, by="fran", note=note)

    def end(self, reason: str = "facilitator") -> None:
        """exercise.ended with the sandbox's end state (as `Exercise.end` keeps it), and the journal closed."""
        with WorldStore(self.ws / ".ir" / "world.json", self.ws / "world.yaml").open(write=False) as world:
            kept = capture(self.dir, self.ws / "cases", world)
        self.record("exercise.ended", reason=reason, by="fran", **kept)
        self.close()

    def close(self) -> None:
        """Release the exercise journal's lock."""
        self.journal.close()

"""Scenario lint: each malformed field of a valid scenario is one `file:line:col: path: message`
line at the offending node, every problem is reported (not only the first), in document order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ir.cli.tabletop import lint_context
from ir.core.workspace import find_workspace
from ir.tabletop.lint import LintContext, lint_file
from ir.tabletop.scenario import ScenarioError, load_scenario
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "tabletop"
BASE = (FIXTURES / "valid.yaml").read_text(encoding="utf-8")
ALERTS = "alerts:\n  sources: {alertmanager: {format: alertmanager}, falco: {format: falco}}\n"
MINT = "      - {op: mint_key"
CONTAINERS = BASE[BASE.index("  containers:\n") : BASE.index("  iam:\n")]
REFERENCE = BASE[BASE.index("reference:\n") : BASE.index("end:\n")]

# (id, old text, new text, anchor: where the problem must be placed in the new text, path, message start)
CASES = [
    ("schema", "schema: ir/scenario/v1", "schema: ir/scenario/v9", "schema: ir", "schema", "must be 'ir/scenario/v1'"),
    ("id", "id: lint-base", "id: -lint", "id: -lint", "id", "String should match pattern"),
    ("version", "version: 1.0.0", "version: v1", "version: v1", "version", "String should match pattern"),
    ("unknown-field", "version: 1.0.0\n", "version: 1.0.0\ncolour: red\n", "colour", "colour", "unknown field"),
    ("title", "title: Support bot posts customer data to a paste site\n", "", "schema:", "title", "required field"),
    ("summary", "summary: An injected", "summary: [a]\nx: An injected", "summary: [a]", "summary", "Input should be"),
    ("narrative", "narrative: |\n  It is 03:12.", "narrative: {a: b}\nn: |\n  It", "narrative:", "narrative", "Input"),
    ("references.asi", "asi: [ASI01, ASI02]", "asi: [ASI01, ASI11]", "asi:", "references.asi", "'ASI11' is not an ASI"),
    ("references.atlas", "atlas: [AML.T0051.001]", "atlas: [T0051]", "atlas:", "references.atlas", "'T0051' is not an"),
    (
        "references.incident",
        "  incident: Indirect",
        "  incidents: Indirect",
        "incidents",
        "references.incidents",
        "unknown",
    ),
    (
        "references.links",
        "links: [https://example.org/write-up]",
        "links: {a: b}",
        "links:",
        "references.links",
        "Input",
    ),
    (
        "objectives.id",
        "  - id: O1\n    title: Contain",
        "  - id: 1O\n    title: Contain",
        "id: 1O",
        "objectives[0].id",
        "String",
    ),
    (
        "objectives.dup",
        "  - id: O2\n    title: Keep",
        "  - id: O1\n    title: Keep",
        "id: O1\n    title: Keep",
        "objectives.O1.id",
        "objective id 'O1' is used twice",
    ),
    ("objectives.title", "    title: Keep the evidence\n", "", "id: O2", "objectives.O2.title", "required field"),
    (
        "objectives.capability",
        "capability: Containment",
        "capability: [a]",
        "capability",
        "objectives.O1.capability",
        "Input",
    ),
    (
        "objectives.unrated",
        "  - id: O2\n",
        "  - id: O3\n    title: Unrated\n  - id: O2\n",
        "id: O3",
        "objectives.O3",
        "objective O3 has no expectation",
    ),
    (
        "roles.id",
        "  - id: R\n",
        "  - id: IC\n",
        "id: IC\n    title: Responder",
        "roles.IC.id",
        "role id 'IC' is used twice",
    ),
    ("roles.title", "    title: Incident commander\n", "", "id: IC", "roles.IC.title", "required field"),
    ("roles.does", "does: Runs the playbooks", "does: [a]", "does", "roles.R.does", "Input"),
    (
        "agent.owner",
        "      owner: secops@example.com\n",
        "",
        "support-bot:\n      purpose",
        "world.agents.support-bot.owner",
        "required field",
    ),
    (
        "agent.container",
        "container: {name: support-bot}",
        "container: {name: other}",
        "container: {name: other",
        "world.agents.support-bot.container",
        "no container 'other' in world.containers",
    ),
    (
        "agent.credentials",
        "user_name: agent-support-bot}",
        "user_name: nobody}",
        "{type: aws.iam_user",
        "world.agents.support-bot.credentials[0]",
        "no 'nobody' in world.iam.users",
    ),
    (
        "agent.hosts",
        "hosts: [agent-host-1]",
        "hosts: [agent-host-9]",
        "agent-host-9",
        "world.agents.support-bot.hosts[0]",
        "no host 'agent-host-9'",
    ),
    (
        "agent.logs",
        "path: logs/support-bot.jsonl}",
        "path: logs/other.jsonl}",
        "path: logs/other",
        "warning: world.agents.support-bot.logs[0].path",
        "'logs/other.jsonl' is not in world.logs",
    ),
    (
        "world.containers",
        CONTAINERS,
        "  containers: [support-bot]\n",
        "containers:",
        "world.containers",
        "Input should be a valid dictionary",
    ),
    (
        "world.containers.logs_file",
        "      status: running\n",
        "      status: running\n      logs_file: logs/no.log\n",
        "logs_file",
        "world.containers.support-bot.logs_file",
        "'logs/no.log' is not in world.logs",
    ),
    (
        "world.logs",
        '    logs/support-bot.jsonl: ""',
        '    logs/support-bot.jsonl: ""\n    /var/log/x: ""',
        "logs:\n    logs/",
        "world.logs",
        "'/var/log/x': a log path is relative",
    ),
    (
        "world.logs-settings",
        '    logs/support-bot.jsonl: ""',
        '    logs/support-bot.jsonl: ""\n    ir.yaml: ""',
        "logs:\n    logs/",
        "world.logs",
        "'ir.yaml': reserved: ir.yaml is the sandbox's settings; put the log elsewhere",
    ),
    (
        "world.logs-playbooks",
        '    logs/support-bot.jsonl: ""',
        '    logs/support-bot.jsonl: ""\n    playbooks/x.log: ""',
        "logs:\n    logs/",
        "world.logs",
        "'playbooks/x.log': reserved: playbooks/ holds the sandbox's playbooks",
    ),
    (
        "world.logs-keys",
        '    logs/support-bot.jsonl: ""',
        '    logs/support-bot.jsonl: ""\n    .ir/keys/ic: ""',
        "logs:\n    logs/",
        "world.logs",
        "'.ir/keys/ic': reserved: .ir/ holds the sandbox's state and signing keys",
    ),
    (
        "world.logs-file-and-folder",
        '    logs/support-bot.jsonl: ""',
        '    logs/support-bot.jsonl: ""\n    logs/support-bot.jsonl/more: ""',
        "logs:\n    logs/",
        "world.logs",
        "'logs/support-bot.jsonl': it is a file, and 'logs/support-bot.jsonl/more' needs it to be a folder",
    ),
    (
        "world.cloudtrail",
        "  logs:\n    logs/",
        "  cloudtrail: {a: b}\n  logs:\n    logs/",
        "cloudtrail",
        "world.cloudtrail",
        "Input should be a valid tuple",
    ),
    (
        "world.images",
        "  logs:\n    logs/",
        "  images: [x]\n  logs:\n    logs/",
        "images",
        "world.images",
        "Input should be a valid dictionary",
    ),
    (
        "world.unknown",
        "  logs:\n    logs/",
        "  printers: {}\n  logs:\n    logs/",
        "printers",
        "world.printers",
        "unknown field",
    ),
    ("inject.at", "    at: 1m\n", "    at: 1x\n", "at: 1x", "injects.I1.at", "'1x' is not a duration"),
    (
        "inject.at+after",
        "    at: 1m\n",
        "    at: 1m\n    after: I3\n",
        "id: I1",
        "injects.I1",
        "give exactly one of at or after",
    ),
    (
        "inject.after",
        "after: I1\n    delay: 4m",
        "after: I9\n    delay: 4m",
        "after: I9",
        "injects.I2.after",
        "no inject 'I9'",
    ),
    (
        "inject.after-cycle",
        "    at: 6m\n    alert: {source: falco",
        "    after: I3\n    alert: {source: falco",
        "after: I3",
        "injects.I3.after",
        "I3 → I3: a cycle",
    ),
    ("inject.delay", "delay: 4m", "delay: soon", "delay: soon", "injects.I2.delay", "'soon' is not a duration"),
    (
        "inject.unless",
        "unless: contained(support-bot)",
        "unless: isolated(support-bot)",
        "unless",
        "injects.I2.unless",
        "'isolated(support-bot)' is not a condition",
    ),
    (
        "inject.unless-agent",
        "unless: contained(support-bot)",
        "unless: contained(other)",
        "unless",
        "injects.I2.unless",
        "contained(other): no agent 'other'",
    ),
    ("inject.card.to", "to: R}", "to: CEO}", "to: CEO", "injects.I1.card.to", "no role 'CEO'"),
    (
        "inject.card.title",
        "card: {title: Page, body:",
        "card: {body:",
        "card: {body",
        "injects.I1.card.title",
        "required field",
    ),
    (
        "inject.card.body",
        "body: The egress monitor paged you.",
        "body: [a]",
        "body: [a]",
        "injects.I1.card.body",
        "Input",
    ),
    (
        "inject.nothing",
        "    alert: {source: falco, file: valid-falco.json}\n",
        "",
        "id: I3",
        "injects.I3",
        "an inject needs a card, an alert, logs or world changes",
    ),
    ("inject.title", "    title: Falco sees a shell\n", "", "id: I3", "injects.I3.title", "required field"),
    (
        "alert.source",
        "source: alertmanager",
        "source: pagerduty",
        "source: pagerduty",
        "injects.I1.alert.source",
        "no source 'pagerduty'",
    ),
    (
        "alert.file+body",
        "file: valid-falco.json}",
        "file: valid-falco.json, body: {}}",
        "alert: {source: falco",
        "injects.I3.alert",
        "give exactly one of file or body",
    ),
    (
        "alert.file",
        "file: valid-falco.json",
        "file: missing.json",
        "file: missing",
        "injects.I3.alert.file",
        "cannot read missing.json",
    ),
    (
        "alert.body-format",
        "          - status: firing\n",
        "          - status: burning\n",
        "status: burning",
        "injects.I1.alert.body.alerts[0].status",
        'not a valid alertmanager alert: expected "firing" or "resolved"',
    ),
    (
        "alert.body-timestamp",
        'startsAt: "2026-11-21T21:09:15Z"',
        "startsAt: 2026-11-21T21:09:15Z",
        "startsAt",
        "injects.I1.alert.body.alerts[0].startsAt",
        "2026-11-21T21:09:15+00:00 is a YAML timestamp",
    ),
    (
        "alert.body-unresolved",
        "agent_id: support-bot, severity",
        "agent_id: billing-bot, severity",
        "body:\n        receiver",
        "injects.I1.alert.body",
        "the alert (Egress to paste.example.net) resolves to no agent",
    ),
    (
        "alert.body-resolved",
        "          - status: firing\n",
        "          - status: resolved\n",
        "body:\n        receiver",
        "warning: injects.I1.alert.body",
        "no firing alert in it",
    ),
    (
        "logs.path",
        "      - path: logs/support-bot.jsonl\n        lines",
        "      - path: logs/x.jsonl\n        lines",
        "path: logs/x",
        "injects.I2.logs[0].path",
        "'logs/x.jsonl' is not in world.logs",
    ),
    ("logs.lines", "        lines: [", "        liness: [", "liness", "injects.I2.logs[0].liness", "unknown field"),
    (
        "world.op",
        "{op: create_user, user: helper",
        "{op: delete_user, user: helper",
        "op: delete_user",
        "injects.I2.world[0].op",
        "Input should be 'mint_key'",
    ),
    (
        "world.mint_key.key",
        "key: AKIAEXAMPLELINT00002, by",
        "by",
        "{op: mint_key",
        "injects.I2.world[1]",
        "mint_key needs key",
    ),
    (
        "world.mint_key.user",
        "{op: mint_key, user: helper,",
        "{op: mint_key, user: helpr,",
        "user: helpr",
        "injects.I2.world[1].user",
        "no user 'helpr' in world.iam.users, nor created by an earlier inject",
    ),
    (
        "world.create_user",
        "{op: create_user, user: helper",
        "{op: create_user, user: agent-support-bot",
        "user: agent-support-bot,",
        "injects.I2.world[0].user",
        "user 'agent-support-bot' already exists",
    ),
    (
        "world.key",
        "key: AKIAEXAMPLELINT00002",
        "key: AKIAEXAMPLELINT00001",
        "key: AKIAEXAMPLELINT00001",
        "injects.I2.world[1].key",
        "access key 'AKIAEXAMPLELINT00001' already exists",
    ),
    (
        "world.by",
        "by: agent-support-bot}",
        "by: mallory}",
        "by: mallory",
        "warning: injects.I2.world[1].by",
        "no user or access key 'mallory'",
    ),
    (
        "world.egress.agent",
        MINT,
        "      - {op: egress, agent: billing, url: https://x.example}\n" + MINT,
        "agent: billing",
        "injects.I2.world[1].agent",
        "no agent 'billing' in world.agents",
    ),
    (
        "world.egress.log",
        MINT,
        "      - {op: egress, agent: support-bot, url: https://x.example, log: x.log}\n" + MINT,
        "log: x.log",
        "injects.I2.world[1].log",
        "'x.log' is not in world.logs",
    ),
    (
        "world.read_secret",
        MINT,
        "      - {op: read_secret, secret: nope}\n" + MINT,
        "secret: nope",
        "injects.I2.world[1].secret",
        "no secret 'nope' in world.secrets",
    ),
    (
        "world.fault.kind",
        MINT,
        "      - {op: fault, operation: iam.update_access_key, kind: broken}\n" + MINT,
        "kind: broken",
        "injects.I2.world[1].kind",
        "Input should be 'unavailable'",
    ),
    (
        "world.spend.usd",
        MINT,
        "      - {op: spend, agent: support-bot, usd: lots}\n" + MINT,
        "usd: lots",
        "injects.I2.world[1].usd",
        "Input should be a valid number",
    ),
    (
        "world.unknown",
        MINT,
        "      - {op: spend, agent: support-bot, usd: 5, eur: 4}\n" + MINT,
        "eur: 4",
        "injects.I2.world[1].eur",
        "unknown field",
    ),
    (
        "expectation.objective",
        "    objective: O1\n    title: The container",
        "    objective: O7\n    title: The container",
        "objective: O7",
        "expectations.E1.objective",
        "no objective 'O7'",
    ),
    ("expectation.title", "    title: A signed decision\n", "", "id: E4", "expectations.E4.title", "required field"),
    (
        "expectation.dup",
        "  - id: E5\n",
        "  - id: E4\n",
        "id: E4\n    objective: O2\n    title: The scribe",
        "expectations.E4.id",
        "expectation id 'E4' is used twice",
    ),
    (
        "expectation.two",
        "    manual: A written log of who did what\n",
        '    manual: A written log of who did what\n    world: {all: ["frozen(support-bot)"]}\n',
        "id: E5",
        "expectations.E5",
        "give exactly one of step, order, world, decision or manual",
    ),
    (
        "step.action",
        "action: container.pause",
        "action: container.paws",
        "action: container.paws",
        "expectations.E1.step.action",
        "no action 'container.paws' (did you mean 'container.pause'?)",
    ),
    (
        "step.action-step",
        "action: container.pause",
        "action: step:nope",
        "action: step:nope",
        "expectations.E1.step.action",
        "no playbook of the workspace has a step 'nope'",
    ),
    (
        "step.action-unplayed",
        "action: container.pause",
        "action: container.unpause",
        "action: container.unpause",
        "warning: expectations.E1.step.action",
        "no playbook the exercise runs",
    ),
    (
        "step.agent",
        "step: {action: container.pause, agent: support-bot",
        "step: {action: container.pause, agent: other",
        "agent: other",
        "expectations.E1.step.agent",
        "no agent 'other'",
    ),
    (
        "step.after",
        "after: I1, within: 5m",
        "after: I8, within: 5m",
        "after: I8",
        "expectations.E1.step.after",
        "no inject 'I8'",
    ),
    (
        "step.within",
        "within: 5m",
        "within: 5 minutes",
        "within: 5 minutes",
        "expectations.E1.step.within",
        "'5 minutes' is not a duration",
    ),
    (
        "order.first",
        "first: evidence.container_snapshot",
        "first: evidence.snapshot",
        "first",
        "expectations.E2.order.first",
        "no action 'evidence.snapshot'",
    ),
    (
        "order.then",
        "then: [destructive]",
        "then: [destructive, container.halt]",
        "container.halt",
        "expectations.E2.order.then[1]",
        "no action 'container.halt'",
    ),
    (
        "order.agent",
        "then: [destructive], agent: support-bot",
        "then: [destructive], agent: other",
        "agent: other",
        "expectations.E2.order.agent",
        "no agent 'other'",
    ),
    (
        "world.all",
        '"frozen(support-bot)"]',
        '"melted(support-bot)"]',
        '"melted',
        "expectations.E3.world.all[1]",
        "'melted(support-bot)' is not a condition",
    ),
    (
        "world.all-agent",
        '"frozen(support-bot)"]',
        '"frozen(other)"]',
        '"frozen(other)',
        "expectations.E3.world.all[1]",
        "frozen(other): no agent 'other'",
    ),
    (
        "decision.decision",
        "decision: keep-disabled}",
        "decision: keep-off}",
        "decision: keep-off",
        "expectations.E4.decision.decision",
        "Input should be 'reenable'",
    ),
    (
        "decision.signed",
        "decision: keep-disabled}",
        "decision: keep-disabled, signed: maybe}",
        "signed: maybe",
        "expectations.E4.decision.signed",
        "Input should be a valid boolean",
    ),
    (
        "decision.agent",
        "decision: {agent: support-bot",
        "decision: {agent: other",
        "agent: other",
        "expectations.E4.decision.agent",
        "no agent 'other'",
    ),
    ("manual", "manual: A written log of who did what", "manual: [a]", "manual", "expectations.E5.manual", "Input"),
    (
        "reference.after",
        "{after: I1, delay: 30s",
        "{after: I5, delay: 30s",
        "after: I5",
        "reference[0].after",
        "no inject 'I5'",
    ),
    ("reference.delay", "delay: 30s", "delay: 30x", "delay: 30x", "reference[0].delay", "'30x' is not a duration"),
    (
        "reference.approve",
        "approve: all",
        "approve: frezee",
        "approve",
        "reference[0].approve",
        "no playbook of the workspace has a step 'frezee'",
    ),
    (
        "reference.agent",
        "approve: all, agent: support-bot",
        "approve: all, agent: other",
        "agent: other",
        "reference[0].agent",
        "no agent 'other'",
    ),
    ("reference.role", "role: R}", "role: Boss}", "role: Boss", "reference[0].role", "no role 'Boss'"),
    (
        "reference.decide",
        "decide: keep-disabled",
        "decide: shrug",
        "decide: shrug",
        "reference[1].decide",
        "Input should be 'reenable'",
    ),
    ("reference.reason", "{at: 8m, decide", "{at: 8m, reason: [a], decide", "reason", "reference[1].reason", "Input"),
    (
        "reference.at+after",
        "{at: 8m, decide",
        "{at: 8m, after: I1, decide",
        "{at: 8m",
        "reference[1]",
        "give exactly one of at or after",
    ),
    ("reference.mark", "mark: E5", "mark: E4", "mark: E4", "reference[2].mark", "'E4' is not a manual expectation"),
    (
        "reference.two",
        "{at: 9m, mark: E5}",
        "{at: 9m, mark: E5, run: agent-compromise}",
        "{at: 9m",
        "reference[2]",
        "give exactly one of run, approve, decide or mark",
    ),
    (
        "reference.run",
        "{at: 9m, mark: E5}",
        "{at: 9m, run: agent-compromize, agent: support-bot}",
        "run:",
        "reference[2].run",
        "no playbook 'agent-compromize' in the workspace",
    ),
    (
        "reference.at-late",
        "{at: 9m, mark",
        "{at: 45m, mark",
        "at: 45m",
        "reference[2].at",
        "played at 45m, not before the time limit end.after (30m)",
    ),
    ("reference.none", REFERENCE, "", "schema:", "warning: reference", "no reference response: --auto cannot show"),
    (
        "end.after",
        "  after: 30m",
        "  after: 5m",
        "at: 6m",
        "injects.I3.at",
        "delivered at 6m, not before the time limit end.after (5m)",
    ),
    (
        "end.after-chain",
        "  after: 30m",
        "  after: 5m",
        "after: I1\n    delay: 4m",
        "injects.I2.after",
        "delivered at 5m, not before",
    ),
    ("end.missing", "  after: 30m", "  before: 30m", "before: 30m", "end.before", "unknown field"),
    (
        "end.when",
        '"decided(support-bot)"]',
        '"decided(other)"]',
        '"decided(other)',
        "end.when[1]",
        "decided(other): no agent 'other'",
    ),
    (
        "alerts.source",
        "",
        ALERTS.replace("falco: {format: falco}", "pd: {format: nagios}"),
        "format: nagios",
        "alerts.sources.pd.format",
        "Input should be 'alertmanager'",
    ),
    (
        "alerts.missing-source",
        "",
        ALERTS.replace(", falco: {format: falco}", ""),
        "source: falco",
        "injects.I3.alert.source",
        "no source 'falco' (sources: alertmanager)",
    ),
    (
        "alerts.route",
        "",
        ALERTS + "  routes:\n    - {name: r, playbook: no-book}\n",
        "playbook: no-book",
        "alerts.routes[0].playbook",
        "no playbook 'no-book' in the workspace",
    ),
    (
        "alerts.route-param",
        "",
        ALERTS + "  routes:\n    - {name: r, playbook: agent-compromise, params: {colour: red}}\n",
        "colour",
        "alerts.routes[0].params.colour",
        "playbook agent-compromise has no param 'colour'",
    ),
    (
        "alerts.no-route",
        "",
        ALERTS + "  routes:\n    - {name: r, playbook: agent-compromise, match: {severity: low}}\n",
        "body:\n        receiver",
        "warning: injects.I1.alert.body",
        "the alert (Egress to paste.example.net): no route of alerts.routes matches it",
    ),
    (
        "yaml.duplicate",
        "version: 1.0.0\n",
        "version: 1.0.0\nversion: 1.0.1\n",
        "version: 1.0.1",
        "",
        "duplicate key 'version'",
    ),
]


def place(text: str, anchor: str) -> str:
    assert text.count(anchor) == 1, f"anchor {anchor!r} is not unique in the broken scenario"
    at = text.index(anchor)
    return f"{text.count(chr(10), 0, at) + 1}:{at - (text.rfind(chr(10), 0, at) + 1) + 1}"


@pytest.fixture(scope="module")
def context() -> LintContext:
    """The real action registry and the repository's playbooks."""
    ctx: LintContext = lint_context(find_workspace(REPO))
    return ctx


def write(tmp_path: Path, text: str) -> Path:
    shutil.copy(FIXTURES / "valid-falco.json", tmp_path / "valid-falco.json")
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_base_scenario_loads_and_lints_clean(tmp_path: Path, context: LintContext) -> None:
    assert load_scenario(FIXTURES / "valid.yaml").id == "lint-base"
    assert [str(f) for f in lint_file(write(tmp_path, BASE), context)] == []


@pytest.mark.parametrize(("old", "new", "anchor", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_broken_field_is_one_line_at_its_node(
    tmp_path: Path, context: LintContext, old: str, new: str, anchor: str, path: str, message: str
) -> None:
    if old:
        assert BASE.count(old) == 1, f"{old!r} is not unique in the base scenario"
        text = BASE.replace(old, new)
    else:
        text = BASE + new
    scenario = write(tmp_path, text)
    lines = [str(f) for f in lint_file(scenario, context)]
    expected = f"{scenario}:{place(text, anchor)}: {path + ': ' if path else ''}{message}"
    assert any(line.startswith(expected) for line in lines), "\n".join([f"wanted {expected}", *lines])


def test_loading_refuses_what_it_checks_and_leaves_the_rest_to_lint(tmp_path: Path, context: LintContext) -> None:
    """A run must not start on a dangling reference; an unknown action name is lint's to report."""
    dangling = write(tmp_path, BASE.replace("to: R}", "to: CEO}"))
    with pytest.raises(ScenarioError, match=r"scenario.yaml:58:\d+: injects.I1.card.to: no role 'CEO'$"):
        load_scenario(dangling)
    unknown = write(tmp_path, BASE.replace("action: container.pause", "action: container.paws"))
    assert load_scenario(unknown).expectations[0].step is not None
    assert [f.path for f in lint_file(unknown, context)] == ["expectations.E1.step.action"]


def test_every_problem_is_reported_in_document_order(tmp_path: Path, context: LintContext) -> None:
    text = BASE.replace("to: R}", "to: CEO}").replace("after: I1, within: 5m", "after: I8, within: 5m")
    text = text.replace("role: R}", "role: Boss}")
    scenario = write(tmp_path, text)
    lines = [str(f) for f in lint_file(scenario, context)]
    assert [line.split(": ", 2)[1] for line in lines] == [
        "injects.I1.card.to",
        "expectations.E1.step.after",
        "reference[0].role",
    ]
    with pytest.raises(ScenarioError, match=r"scenario.yaml:58:\d+: injects.I1.card.to: no role 'CEO' \(and 2 more\)"):
        load_scenario(scenario)


def test_schema_errors_are_all_reported_too(tmp_path: Path, context: LintContext) -> None:
    text = BASE.replace("at: 1m", "at: 1x").replace("decision: keep-disabled}", "decision: keep-off}")
    lines = [str(f) for f in lint_file(write(tmp_path, text), context)]
    assert [line.split(": ", 2)[1] for line in lines] == ["injects.I1.at", "expectations.E4.decision.decision"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a list\n", "1:1: a scenario must be a YAML mapping"),
        ("schema: ir/scenario/v1\nid: x\nid: y\n", "3:1: duplicate key 'id'"),
        ("schema: [unclosed\n", "2:1: "),
    ],
    ids=["not-a-mapping", "duplicate-key", "bad-yaml"],
)
def test_a_file_that_is_not_a_scenario_is_one_located_line(
    tmp_path: Path, context: LintContext, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    (line,) = [str(f) for f in lint_file(path, context)]
    assert line.startswith(f"{path}:{expected}")


def test_without_playbooks_or_actions_lint_checks_what_it_can(tmp_path: Path) -> None:
    text = BASE.replace("action: container.pause", "action: container.paws").replace("to: R}", "to: CEO}")
    lines = [str(f) for f in lint_file(write(tmp_path, text), LintContext())]
    assert [line.split(": ", 2)[1] for line in lines] == ["injects.I1.card.to"]


def test_an_agent_off_the_simulated_backend_loads_and_is_a_warning(tmp_path: Path, context: LintContext) -> None:
    """A live-fire scenario (docker agents) is usable: the interlock refuses it without --live-fire."""
    scenario = write(tmp_path, BASE.replace("backend: simulated", "backend: docker"))
    assert load_scenario(scenario).world.agents["support-bot"]["backend"] == "docker"
    findings = lint_file(scenario, context)
    assert [(f.path, f.severity) for f in findings] == [("world.agents.support-bot.backend", "warning")]
    assert "runs only --live-fire" in findings[0].message

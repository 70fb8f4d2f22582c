"""Each alert format read from bodies its real senders wrote (tests/fixtures/alerts/README.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ir.alerts.formats import decode, detect, normalise
from ir.alerts.model import Alert, AlertFormatError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "alerts"


def body(name: str) -> object:
    """A fixture body, decoded the way the receiver decodes it."""
    return decode((FIXTURES / name).read_bytes())


def read(name: str, fmt: str | None = None) -> list[Alert]:
    value = body(name)
    return normalise(fmt or detect(value), value, source="test")


# --- Alertmanager and Grafana ------------------------------------------------------------------


def test_an_alertmanager_group_is_split_with_each_alert_keeping_its_own_status() -> None:
    firing, resolved = read("alertmanager/am025-group-firing-resolved.json")
    assert (firing.status, resolved.status) == ("firing", "resolved")
    assert (firing.index, resolved.index) == (0, 1)
    assert firing.entities.agent_ids == ("support-bot",)
    assert resolved.entities.agent_ids == ("billing-agent-7",)
    assert resolved.entities.container_names == ("billing-agent-7",)
    assert resolved.entities.pods == ("agents/billing-agent-7-6f9c",)
    assert resolved.entities.hosts == ("node-3",)  # instance "node-3:9100" without its port
    assert firing.severity == resolved.severity == "critical"
    assert firing.title == "Egress to paste.example.net:443 not in allow-list"
    assert firing.labels["alertname"] == "AgentEgressToUnknownHost"
    assert (firing.format, firing.kind, firing.source) == ("alertmanager", "alertmanager", "test")


def test_alertmanager_incident_key_is_fingerprint_and_start_so_repeats_match_and_a_new_episode_does_not() -> None:
    group = body("alertmanager/am025-group-firing-resolved.json")
    first = normalise("alertmanager", group, source="am-a")
    again = normalise("alertmanager", copy.deepcopy(group), source="am-b")  # the HA peer's copy
    assert [a.incident_key for a in first] == [a.incident_key for a in again]
    assert first[1].incident_key == "alertmanager:db7fae26a2757517:2026-11-21T21:09:15.085361+00:00"
    assert first[1].source_id == "db7fae26a2757517"
    refired = copy.deepcopy(group)
    assert isinstance(refired, dict)
    refired["alerts"][1]["startsAt"] = "2026-11-21T22:00:00Z"
    assert normalise("alertmanager", refired, source="am-a")[1].incident_key != first[1].incident_key


def test_two_agent_labels_that_disagree_both_show_with_where_each_was_read() -> None:
    (alert,) = read("alertmanager/am025-disagreeing-agent-labels.json")
    assert alert.entities.agent_ids == ("support-bot", "billing-agent-7")
    assert alert.entities.agent_id_sources == ("labels.agent_id", "labels.agent_ir_agent_id")
    assert alert.entities.container_names == ("support-bot",)
    assert alert.severity == "medium"  # severity=warning


def test_hostile_annotations_are_kept_as_sent_but_the_title_is_one_line() -> None:
    (alert,) = read("alertmanager/am025-disagreeing-agent-labels.json")
    assert "\x1b]0;owned\x07" in alert.title  # neutralised where shown, never silently rewritten
    assert "\n" not in alert.title and "\r" not in alert.title


def test_grafana_webhook_reads_as_alertmanager_with_its_own_kind() -> None:
    alerts = read("alertmanager/grafana-docs-webhook.json")
    assert [a.kind for a in alerts] == ["grafana", "grafana"]
    assert alerts[0].observed == "2021-10-12T07:51:03.157076+00:00"  # +02:00 read as UTC
    assert alerts[0].severity == "unknown"  # no severity label
    assert alerts[0].entities.agent_ids == ()


def test_an_alert_without_fingerprint_gets_one_from_its_labels() -> None:
    group = body("alertmanager/am025-group-firing-resolved.json")
    assert isinstance(group, dict)
    for item in group["alerts"]:
        del item["fingerprint"]
    one = normalise("alertmanager", group, source="t")
    two = normalise("alertmanager", copy.deepcopy(group), source="t")
    assert one[0].source_id == two[0].source_id != one[1].source_id
    assert one[0].source_id.startswith("labels-")


# --- EventBridge: GuardDuty, Security Hub ASFF and OCSF ----------------------------------------


def test_the_same_guardduty_finding_reads_the_same_in_camel_case_and_pascal_case() -> None:
    (camel,) = read("eventbridge/guardduty-sample-eventbridge.json")
    (pascal,) = read("eventbridge/guardduty-sample-get-findings-pascal.json")
    assert camel.kind == pascal.kind == "guardduty"
    assert camel.incident_key == pascal.incident_key == "guardduty:30bf285e52a1e405084ff6ec28e06e17"
    assert camel.entities == pascal.entities
    assert camel.entities.access_key_ids == ("GeneratedFindingAccessKeyId",)
    assert camel.entities.iam_users == ("GeneratedFindingUserName",)
    assert camel.entities.hosts == ("i-99999999",)
    assert (camel.severity, camel.title, camel.observed) == (pascal.severity, pascal.title, pascal.observed)
    assert camel.severity == "medium"
    assert camel.labels["finding_type"] == pascal.labels["finding_type"] == "Recon:IAMUser/MaliciousIPCaller.Custom"
    assert camel.labels["sample"] == "true"  # a CreateSampleFindings finding says so; routes can skip it
    assert camel.labels["detail_type"] == "GuardDuty Finding"


def test_the_same_finding_via_security_hub_asff_and_v2_ocsf_has_one_incident_key() -> None:
    (asff,) = read("eventbridge/securityhub-asff-guardduty-same-finding.json")
    (ocsf,) = read("eventbridge/securityhub-v2-ocsf-guardduty.json")
    assert (asff.kind, ocsf.kind) == ("securityhub-asff", "securityhub-ocsf")
    assert asff.incident_key == ocsf.incident_key == "guardduty:06c95f0cfdfd3b579b977e20e9da1aa4"
    assert asff.source_id == ocsf.source_id  # the finding ARN, not the per-delivery envelope id
    for alert in (asff, ocsf):
        assert "ASIA4U76YS3TB3MEOA3O" in alert.entities.access_key_ids
        assert alert.entities.iam_roles == ("cis_automation",)
        assert alert.entities.role_sessions == ("aws-go-sdk-1753152318418995274",)
        assert alert.severity == "low"
        assert alert.status == "resolved"  # suppressed: journalled, never releases anything
        assert alert.labels["product"] == "GuardDuty"


def test_a_guardduty_finding_re_sent_by_security_hub_keys_as_the_guardduty_event_does() -> None:
    event = body("eventbridge/guardduty-sample-eventbridge.json")
    assert isinstance(event, dict)
    event["detail"]["id"] = "06c95f0cfdfd3b579b977e20e9da1aa4"
    (direct,) = normalise("eventbridge", event, source="guardduty")
    (via_hub,) = read("eventbridge/securityhub-asff-guardduty-same-finding.json")
    assert direct.incident_key == via_hub.incident_key


def test_a_bare_asff_control_finding_is_keyed_by_its_security_hub_id() -> None:
    (alert,) = read("eventbridge/securityhub-asff-control-bare.json")
    assert alert.kind == "securityhub-asff"
    assert alert.incident_key.startswith("securityhub:arn:aws:securityhub:us-east-1:111111111111:subscription/")
    assert alert.entities.iam_users == ("sharrtest",)
    assert alert.severity == "medium"
    assert alert.status == "firing"


def test_a_bare_guardduty_finding_without_envelope_is_read() -> None:
    event = body("eventbridge/guardduty-sample-eventbridge.json")
    assert isinstance(event, dict)
    assert detect(event["detail"]) == "eventbridge"
    (alert,) = normalise("eventbridge", event["detail"], source="t")
    assert alert.incident_key == "guardduty:30bf285e52a1e405084ff6ec28e06e17"


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.5, "info"), (2, "low"), (5, "medium"), (8.9, "high"), (9.5, "critical"), (11, "unknown"), ("High", "high")],
)
def test_guardduty_scores_fall_in_the_documented_bands(score: object, expected: str) -> None:
    event = body("eventbridge/guardduty-sample-eventbridge.json")
    assert isinstance(event, dict)
    event["detail"]["severity"] = score
    assert normalise("eventbridge", event, source="t")[0].severity == expected


def test_agent_id_tags_are_read_from_guardduty_asff_and_ocsf_resources() -> None:
    pascal = body("eventbridge/guardduty-sample-get-findings-pascal.json")
    assert isinstance(pascal, dict)
    pascal["Findings"][0]["Resource"]["InstanceDetails"]["Tags"].append(
        {"Key": "agent-ir:agent-id", "Value": "support-bot"}
    )
    (gd,) = normalise("eventbridge", pascal, source="t")
    assert gd.entities.agent_ids == ("support-bot",)
    assert gd.entities.agent_id_sources == ('Resource.InstanceDetails.Tags["agent-ir:agent-id"]',)

    asff = body("eventbridge/securityhub-asff-control-bare.json")
    assert isinstance(asff, dict)
    asff["Resources"][0]["Tags"] = {"team": "support", "dev.agent-ir.agent-id": "support-bot"}
    (hub,) = normalise("eventbridge", asff, source="t")
    assert hub.entities.agent_ids == ("support-bot",)
    assert hub.entities.agent_id_sources == ('Resources[0].Tags["dev.agent-ir.agent-id"]',)

    ocsf = body("eventbridge/securityhub-v2-ocsf-guardduty.json")
    assert isinstance(ocsf, dict)
    ocsf["detail"]["findings"][0]["resources"][0]["tags"] = [
        {"name": "env", "value": "prod"},
        {"name": "agent-ir:agent-id", "value": "billing-agent-7"},
    ]
    (v2,) = normalise("eventbridge", ocsf, source="t")
    assert v2.entities.agent_ids == ("billing-agent-7",)
    assert v2.entities.agent_id_sources == ("resources[0].tags[1].value",)


def test_guardduty_container_findings_name_containers_images_and_pods() -> None:
    finding = {
        "schemaVersion": "2.0",
        "id": "c0ffee",
        "type": "Execution:Runtime/ReverseShell",
        "severity": 8,
        "resource": {
            "resourceType": "ECSCluster",
            "containerDetails": {"id": "4a4021c50439", "name": "support-bot", "image": "registry.example.com/sb:1.4.2"},
            "ecsClusterDetails": {"taskDetails": {"containers": [{"name": "sidecar", "image": "envoy:1.30"}]}},
            "kubernetesDetails": {
                "kubernetesWorkloadDetails": {"name": "support-bot-5d8f7", "type": "pods", "namespace": "agents"}
            },
        },
        "service": {"featureName": "RuntimeMonitoring"},
    }
    (alert,) = normalise("eventbridge", {"detail-type": "GuardDuty Finding", "detail": finding}, source="t")
    assert alert.entities.container_ids == ("4a4021c50439",)
    assert alert.entities.container_names == ("support-bot", "sidecar")
    assert alert.entities.images == ("registry.example.com/sb:1.4.2", "envoy:1.30")
    assert alert.entities.pods == ("agents/support-bot-5d8f7",)
    assert alert.labels["feature"] == "RuntimeMonitoring"


def test_assumed_role_arns_give_role_and_session() -> None:
    asff = body("eventbridge/securityhub-asff-control-bare.json")
    assert isinstance(asff, dict)
    asff["Resources"] = [{"Type": "Other", "Id": "arn:aws:sts::111111111111:assumed-role/support-bot-runtime/i-0abc"}]
    (alert,) = normalise("eventbridge", asff, source="t")
    assert alert.entities.iam_roles == ("support-bot-runtime",)
    assert alert.entities.role_sessions == ("i-0abc",)


def test_an_eventbridge_event_of_another_detail_type_is_refused_by_name() -> None:
    with pytest.raises(AlertFormatError, match=r'detail-type: "EC2 Instance State-change Notification" is not'):
        normalise("eventbridge", {"detail-type": "EC2 Instance State-change Notification", "detail": {}}, source="t")


# --- Falco -------------------------------------------------------------------------------------


def test_a_falco_event_without_uuid_names_container_image_pod_and_host() -> None:
    (alert,) = read("falco/falco-docs-terminal-shell.json")
    assert (alert.kind, alert.status, alert.severity) == ("falco", "firing", "critical")
    assert alert.entities.container_ids == ("ee97d9c4186f",)
    assert alert.entities.images == ("docker.io/library/alpine",)
    assert alert.entities.pods == ("default/kubecon",)
    assert alert.entities.hosts == ("falco-xczjd",)
    assert alert.title == "Terminal shell in container"
    assert alert.labels["rule"] == "Terminal shell in container"
    assert alert.labels["proc.cmdline"] == "sh -c clear; (bash || ash || sh)"
    assert alert.source_id.startswith("falco-")
    assert read("falco/falco-docs-terminal-shell.json")[0].source_id == alert.source_id  # a re-send matches


def test_falcosidekicks_uuid_identifies_the_delivery_not_the_incident() -> None:
    (plain,) = read("falco/falco-docs-terminal-shell.json")
    (forwarded,) = read("falco/falcosidekick-forwarded-terminal-shell.json")
    assert forwarded.source_id == "3f2b8a6e-1c4d-4e9a-9b7f-0d5c2e8a1f63"
    assert forwarded.incident_key == plain.incident_key


def _falco_at(time: str, container: str = "ee97d9c4186f") -> Alert:
    event = body("falco/falcosidekick-forwarded-terminal-shell.json")
    assert isinstance(event, dict)
    event["time"] = time
    event["output_fields"]["container.id"] = container
    return normalise("falco", event, source="t")[0]


def test_a_falco_burst_on_one_container_folds_into_one_incident() -> None:
    first = _falco_at("2023-05-25T13:44:05.478445995Z")
    assert _falco_at("2023-05-25T13:44:59Z").incident_key == first.incident_key
    assert _falco_at("2023-05-25T13:44:59Z", container="0123456789ab").incident_key != first.incident_key
    assert _falco_at("2023-05-25T13:51:00Z").incident_key != first.incident_key


def test_falco_fields_it_could_not_resolve_are_not_entities() -> None:
    event = body("falco/falco-docs-terminal-shell.json")
    assert isinstance(event, dict)
    event["output_fields"].update({"container.id": "host", "container.name": "host", "k8s.ns.name": None})
    event["output_fields"]["k8s.pod.name"] = "<NA>"
    (alert,) = normalise("falco", event, source="t")
    assert alert.entities.container_ids == alert.entities.container_names == alert.entities.pods == ()


def test_falcosidekicks_own_test_event_reads_with_debug_as_info() -> None:
    (alert,) = read("falco/falcosidekick-test-input.json")
    assert alert.severity == "info"
    assert alert.labels["proc.tty"] == "1234"
    assert alert.entities.hosts == ("test-host",)


# --- CloudEvents and the Agent Governance Toolkit -----------------------------------------------


def test_agent_irs_own_cloudevent_names_the_agent_in_its_extension() -> None:
    (alert,) = read("cloudevents/agent-ir-alert.json")
    assert alert.entities.agent_ids == ("support-bot",)
    assert alert.entities.agent_id_sources == ("extension agentid",)
    assert alert.incident_key == "cloudevents:https://guard.example.com/prompt-firewall:support-bot/inj-417"
    assert (alert.severity, alert.status) == ("critical", "firing")
    assert alert.labels["detector"] == "prompt-firewall"


def test_agent_irs_cloudevent_without_agentid_is_refused() -> None:
    event = body("cloudevents/agent-ir-alert.json")
    assert isinstance(event, dict)
    del event["agentid"]
    with pytest.raises(AlertFormatError, match=r"^agentid: required for type dev.agent-ir.alert"):
        normalise("cloudevents", event, source="t")


def test_agt_audit_export_names_the_agent_of_its_did_and_reads_its_odd_time() -> None:
    (alert,) = read("cloudevents/agt-audit-policy-violation.json")
    assert alert.kind == "agt"
    assert alert.entities.agent_ids == ("support-bot",)
    assert alert.entities.agent_id_sources == ("source (did:agentmesh)",)
    assert alert.observed == "2026-11-21T21:11:08.442977+00:00"  # "…+00:00Z" as the toolkit writes it
    assert alert.severity == "high"
    assert alert.labels["matched_rule"] == "egress-allowlist"


def test_a_cloudevents_batch_gives_one_alert_per_event() -> None:
    alerts = read("cloudevents/agt-audit-export-batch.json")
    assert [a.index for a in alerts] == [0, 1]
    assert [a.entities.agent_ids for a in alerts] == [("support-bot",), ("billing-agent-7",)]


def test_agt_plain_webhook_event_is_read_with_a_stable_id() -> None:
    (alert,) = read("cloudevents/agt-webhook-policy-violation.json")
    assert alert.entities.agent_ids == ("support-bot",)
    assert alert.entities.agent_id_sources == ("agent_id",)
    assert alert.severity == "critical"
    assert alert.labels["policy_name"] == "egress-allowlist"
    assert read("cloudevents/agt-webhook-policy-violation.json")[0].source_id == alert.source_id


def test_a_cloudevent_of_a_type_agent_ir_does_not_read_is_refused_by_name() -> None:
    with pytest.raises(AlertFormatError, match=r'^type: "com.example.someevent" is not a CloudEvent type'):
        read("cloudevents/cloudevents-spec-example.json")


# --- detect and the demo ------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.json")))
def test_every_fixture_is_detected_as_the_format_of_its_folder(path: str) -> None:
    assert detect(body(path)) == path.split("/")[0]


def test_the_demo_alerts_name_the_demo_worlds_support_bot() -> None:
    demo = REPO / "demo" / "alerts"
    am_body = json.loads((demo / "alertmanager-support-bot.json").read_text())
    (am,) = normalise(detect(am_body), am_body, source="alertmanager")
    assert am.entities.agent_ids == ("support-bot",)
    assert am.entities.container_names == ("support-bot",)
    assert (am.status, am.severity) == ("firing", "critical")
    gd_body = json.loads((demo / "guardduty-support-bot.json").read_text())
    (gd,) = normalise(detect(gd_body), gd_body, source="guardduty")
    assert gd.entities.access_key_ids == ("AKIAEXAMPLEDEMO00001",)
    assert gd.entities.iam_users == ("agent-support-bot",)

"""Security Hub findings: CSPM's ASFF and Security Hub v2's OCSF, one `Alert` per finding.

Both carry findings from many products; GuardDuty's are keyed as GuardDuty keys them (see
`eventbridge`), so the same finding correlates whichever hub delivered it. Explicit agent ids
come from resource tags: ASFF `Resources[].Tags` is an object, OCSF `resources[].tags` a list of
`{name, value}`. Cloud identities come from access-key resources and from ARNs.
"""

from __future__ import annotations

import re

from ir.alerts.formats import severity
from ir.alerts.formats.entities import EntityBag, is_agent_tag
from ir.alerts.formats.reader import Fields, join
from ir.alerts.formats.timestamps import first_iso
from ir.alerts.model import Alert

GUARDDUTY_ARN = re.compile(r"arn:aws[a-z-]*:guardduty:[^:]*:[^:]*:detector/[^/]+/finding/(?P<id>[^/\s]+)\Z")
"""A GuardDuty finding ARN; its last segment is the GuardDuty finding id."""

_ACCESS_KEY_PREFIX = "AWS::IAM::AccessKey:"
_RESOLVED_WORKFLOW = ("RESOLVED", "SUPPRESSED")
_RESOLVED_OCSF_STATUS = ("suppressed", "resolved", "archived")
_TITLE_MAX = 300


def finding_key(finding_id: str) -> str:
    """The incident key of a Security Hub finding id (a GuardDuty finding ARN keys as GuardDuty does)."""
    match = GUARDDUTY_ARN.match(finding_id)
    return f"guardduty:{match.group('id')}" if match else f"securityhub:{finding_id}"


def relative(place: str, finding_place: str) -> str:
    """A place inside a finding, written from the finding (`Resources[0].Tags["agent-ir:agent-id"]`)."""
    if finding_place and place.startswith(finding_place + "."):
        return place[len(finding_place) + 1 :]
    if finding_place and place.startswith(finding_place + "["):
        return place[len(finding_place) :]
    return place


def _title(*candidates: str) -> str:
    for text in candidates:
        line = " ".join(text.split())
        if line:
            return line[:_TITLE_MAX]
    return "Security Hub finding"


def asff(f: Fields, index: int, context: dict[str, str], source: str) -> Alert:
    """One ASFF finding (Security Hub CSPM `findings[i]`, or bare)."""
    finding_id = f.text("Id", required=True)
    types = f.strings("Types")
    fields = f.obj("ProductFields")
    product = (fields.loose_text("aws/securityhub/ProductName") if fields else "") or f.loose_text("ProductName")
    if not product:
        product = f.text("ProductArn").rsplit("/", 1)[-1]
    workflow = f.obj("Workflow")
    workflow_status = (workflow.loose_text("Status") if workflow else "") or f.loose_text("WorkflowState")
    archived = f.loose_text("RecordState").upper() == "ARCHIVED"
    bag = EntityBag()
    for resource in f.objs("Resources"):
        _asff_resource(resource, f.place, bag)
    labels = {
        "detail_type": context.get("detail_type", ""),
        "product": product,
        "finding_type": types[0].rsplit("/", 1)[-1] if types else "",
        "types": ", ".join(types),
        "generator": f.text("GeneratorId"),
        "workflow_status": workflow_status,
        "region": f.loose_text("Region") or context.get("region", ""),
        "account": f.loose_text("AwsAccountId") or context.get("account", ""),
    }
    return Alert(
        source=source,
        format="eventbridge",
        kind="securityhub-asff",
        source_id=finding_id,
        incident_key=finding_key(finding_id),
        status="resolved" if archived or workflow_status.upper() in _RESOLVED_WORKFLOW else "firing",
        severity=_asff_severity(f),
        title=_title(f.text("Title"), labels["finding_type"]),
        observed=first_iso(f.get("LastObservedAt"), f.get("UpdatedAt"), f.get("CreatedAt")),
        entities=bag.freeze(),
        labels={k: v for k, v in labels.items() if v},
        index=index,
    )


def _asff_severity(f: Fields) -> str:
    sev = f.obj("Severity")
    if sev is None:
        return "unknown"
    label = sev.loose_text("Label")
    if label:
        return severity.from_word(label)
    normalized = sev.number("Normalized")
    return "unknown" if normalized is None else severity.from_asff_normalized(normalized)


def _asff_resource(r: Fields, finding_place: str, bag: EntityBag) -> None:
    rid = r.loose_text("Id")
    if rid.startswith(_ACCESS_KEY_PREFIX):
        bag.access_key(rid[len(_ACCESS_KEY_PREFIX) :])
    bag.arn(rid)
    tags = r.obj("Tags")
    if tags is not None:
        for key, value in tags.scalars():
            if is_agent_tag(key):
                bag.agent(value, relative(join(tags.place, key), finding_place))
    details = r.obj("Details")
    if details is None:
        return
    access_key = details.obj("AwsIamAccessKey")
    if access_key is not None:
        principal_type = access_key.loose_text("PrincipalType")
        if principal_type == "AssumedRole":
            bag.role(access_key.loose_text("PrincipalName"))
            bag.session_from_principal(access_key.loose_text("PrincipalId"))
        elif principal_type in ("IAMUser", ""):
            bag.user(access_key.loose_text("UserName") or access_key.loose_text("PrincipalName"))
    user = details.obj("AwsIamUser")
    if user is not None:
        bag.user(user.loose_text("UserName"))
    role = details.obj("AwsIamRole")
    if role is not None:
        bag.role(role.loose_text("RoleName"))
    container = details.obj("Container")
    if container is not None:
        bag.container(name=container.loose_text("Name"))
        bag.image(container.loose_text("ImageName") or container.loose_text("ImageId"))
    task = details.obj("AwsEcsTask")
    if task is not None:
        for item in task.objs("Containers"):
            bag.container(name=item.loose_text("Name"), image=item.loose_text("Image"))
    instance = details.obj("AwsEc2Instance")
    if instance is not None and not rid.startswith("arn:"):
        bag.host(rid)


def ocsf(f: Fields, index: int, context: dict[str, str], source: str) -> Alert:
    """One OCSF finding (Security Hub v2 `findings[i]`, or bare)."""
    info = f.obj("finding_info", required=True)
    assert info is not None
    uid = info.text("uid", required=True)
    types = info.strings("types")
    metadata = f.obj("metadata")
    product = metadata.obj("product") if metadata else None
    cloud = f.obj("cloud")
    account = cloud.obj("account") if cloud else None
    status = f.loose_text("status")
    status_id = f.number("status_id")
    activity_id = f.number("activity_id")
    resolved = status.lower() in _RESOLVED_OCSF_STATUS or status_id in (3.0, 4.0, 5.0) or activity_id == 3.0
    bag = EntityBag()
    for resource in f.objs("resources"):
        _ocsf_resource(resource, f.place, bag)
    for evidence in f.objs("evidences"):
        container = evidence.obj("container")
        if container is not None:
            image = container.obj("image")
            bag.container(cid=container.loose_text("uid"), name=container.loose_text("name"))
            bag.image(image.loose_text("name") if image else "")
    device = f.obj("device")
    if device is not None:
        bag.host(device.loose_text("hostname"))
        bag.host(device.loose_text("instance_uid"))
    labels = {
        "detail_type": context.get("detail_type", ""),
        "product": product.loose_text("name") if product else "",
        "finding_type": types[0] if types else "",
        "types": ", ".join(types),
        "class_name": f.loose_text("class_name"),
        "status": status,
        "region": (cloud.loose_text("region") if cloud else "") or context.get("region", ""),
        "account": (account.loose_text("uid") if account else "") or context.get("account", ""),
    }
    return Alert(
        source=source,
        format="eventbridge",
        kind="securityhub-ocsf",
        source_id=uid,
        incident_key=finding_key(uid),
        status="resolved" if resolved else "firing",
        severity=_ocsf_severity(f),
        title=_title(info.text("title"), labels["finding_type"]),
        observed=first_iso(
            f.get("time_dt"), f.get("time"), info.get("last_seen_time_dt"), info.get("modified_time_dt")
        ),
        entities=bag.freeze(),
        labels={k: v for k, v in labels.items() if v},
        index=index,
    )


def _ocsf_severity(f: Fields) -> str:
    severity_id = f.number("severity_id")
    if severity_id is not None and severity.from_ocsf_id(severity_id) != "unknown":
        return severity.from_ocsf_id(severity_id)
    return severity.from_word(f.loose_text("severity"))


def _ocsf_resource(r: Fields, finding_place: str, bag: EntityBag) -> None:
    rtype = r.loose_text("type")
    uid = r.loose_text("uid")
    name = r.loose_text("name")
    for i, tag in enumerate(r.objs("tags")):
        tag_name = tag.loose_text("name")
        if is_agent_tag(tag_name):
            place = join(join(r.at("tags"), i), "value")
            bag.agent(tag.loose_text("value"), relative(place, finding_place))
    bag.arn(uid)
    data = r.obj("data")
    if rtype in ("AWS::IAM::AccessKey", "AwsIamAccessKey"):
        bag.access_key_like(uid)
    if data is not None:
        bag.access_key(data.loose_text("access_key_id"))
        user_type = data.loose_text("user_type")
        if user_type == "AssumedRole":
            bag.role(data.loose_text("user_name"))
            bag.session_from_principal(data.loose_text("principal_id"))
        elif user_type == "IAMUser":
            bag.user(data.loose_text("user_name"))
    user = r.obj("user")
    if user is not None:
        bag.user(user.loose_text("name"))
    if rtype in ("AWS::IAM::User", "AwsIamUser") and not uid.startswith("arn:"):
        bag.user(name or uid)
    if rtype in ("AWS::IAM::Role", "AwsIamRole") and not uid.startswith("arn:"):
        bag.role(name or uid)
    if rtype in ("AWS::EC2::Instance", "AwsEc2Instance") and not uid.startswith("arn:"):
        bag.host(uid)

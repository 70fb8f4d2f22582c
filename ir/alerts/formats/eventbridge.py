"""AWS EventBridge events: GuardDuty findings, Security Hub CSPM (ASFF) and Security Hub v2 (OCSF).

The envelope (`detail-type`, `detail`, `account`, `region`) says which finding format is inside;
a bare finding (a `GetFindings` export, `{"Findings": [...]}`, an ASFF or OCSF finding) is read
too. Keys are matched ignoring case, `-` and `_`: EventBridge delivers GuardDuty's camelCase,
`aws guardduty get-findings` prints PascalCase.

Incident key, the same whichever way a finding arrives: a GuardDuty finding is
`guardduty:<finding id>` when it comes as a GuardDuty event (`detail.id`), when Security Hub CSPM
re-sends it in ASFF (`Id` is the finding's ARN, `…/finding/<finding id>`), and when Security Hub
v2 sends it in OCSF (`finding_info.uid` is the same ARN). Any other Security Hub finding is
`securityhub:<Id>` (ASFF) or `securityhub:<finding_info.uid>` (OCSF). The envelope `id` changes
per delivery and is never part of the key. GuardDuty findings are never "resolved" (updates are
re-sent every 15 min to 6 h and bump `service.count`); a Security Hub finding that is archived,
resolved or suppressed is `resolved`, which is journalled and never releases anything.
"""

from __future__ import annotations

from ir.alerts.formats import securityhub, severity
from ir.alerts.formats.entities import EntityBag, is_agent_tag
from ir.alerts.formats.reader import Fields, join, shown
from ir.alerts.formats.securityhub import GUARDDUTY_ARN, relative
from ir.alerts.formats.timestamps import first_iso
from ir.alerts.model import Alert, AlertFormatError

GUARDDUTY = "GuardDuty Finding"
ASFF_TYPES = ("Security Hub Findings - Imported", "Security Hub Findings - Custom Action")
OCSF_TYPE = "Findings Imported V2"

_TITLE_MAX = 300


def looks_like(body: dict[str, object]) -> bool:
    """Whether a decoded object is an EventBridge event or a bare GuardDuty / Security Hub finding."""
    root = Fields(body, "", loose=True)
    if root.has("detail-type") or root.has("detail"):
        return True
    if isinstance(root.get("findings"), list):
        return True
    return _finding_shape(root) is not None


def normalise(body: object, *, source: str) -> list[Alert]:
    """One `Alert` per finding in an EventBridge event, a `GetFindings` export or a bare finding."""
    root = Fields(body, "", loose=True)
    if root.has("detail-type") or root.has("detail"):
        return _envelope(root, source)
    context = {"detail_type": ""}
    if root.has("findings"):
        findings = root.objs("findings")
        return [_read(f, _shape_or_fail(f), i, context, source) for i, f in enumerate(findings)]
    return [_read(root, _shape_or_fail(root), 0, context, source)]


def _envelope(root: Fields, source: str) -> list[Alert]:
    detail_type = root.text("detail-type", required=True)
    detail = root.obj("detail", required=True)
    assert detail is not None
    context = {"detail_type": detail_type, "region": root.loose_text("region"), "account": root.loose_text("account")}
    wanted = detail_type.strip().lower()
    if wanted == GUARDDUTY.lower():
        return [_read(detail, "guardduty", 0, context, source)]
    if wanted in (t.lower() for t in ASFF_TYPES):
        shape = "asff"
    elif wanted == OCSF_TYPE.lower():
        shape = "ocsf"
    else:
        raise AlertFormatError(
            f"{root.at('detail-type')}: {shown(detail_type)} is not an event agent-ir reads "
            f"({GUARDDUTY!r}, {ASFF_TYPES[0]!r}, {OCSF_TYPE!r})"
        )
    return [_read(f, shape, i, context, source) for i, f in enumerate(detail.objs("findings", required=True))]


def _finding_shape(f: Fields) -> str | None:
    if f.has("finding_info") and (f.has("class_uid") or f.has("metadata")):
        return "ocsf"
    if f.loose_text("SchemaVersion") == "2018-10-08" or (f.has("ProductArn") and f.has("Id")):
        return "asff"
    if f.has("resource") and (f.has("service") or f.has("type")) and (f.has("id") or f.has("arn")):
        return "guardduty"
    return None


def _shape_or_fail(f: Fields) -> str:
    shape = _finding_shape(f)
    if shape is None:
        raise AlertFormatError(
            f"{f.place or 'body'}: not a GuardDuty, ASFF or OCSF finding "
            "(no resource+service, SchemaVersion 2018-10-08, or finding_info)"
        )
    return shape


def _read(f: Fields, shape: str, index: int, context: dict[str, str], source: str) -> Alert:
    if shape == "guardduty":
        return _guardduty(f, index, context, source)
    if shape == "asff":
        return securityhub.asff(f, index, context, source)
    return securityhub.ocsf(f, index, context, source)


def _guardduty(f: Fields, index: int, context: dict[str, str], source: str) -> Alert:
    arn = f.text("arn")
    finding_id = f.text("id")
    if not finding_id:
        match = GUARDDUTY_ARN.match(arn)
        if not match:
            raise AlertFormatError(f"{f.at('id')}: required, missing")
        finding_id = match.group("id")
    finding_type = f.text("type")
    resource = f.obj("resource")
    service = f.obj("service")
    bag = EntityBag()
    if resource is not None:
        _guardduty_resource(resource, f.place, bag)
    labels = {
        "detail_type": context.get("detail_type", ""),
        "product": "GuardDuty",
        "type": finding_type,
        "finding_type": finding_type,
        "region": f.text("region") or context.get("region", ""),
        "account": f.loose_text("accountId") or context.get("account", ""),
        "resource_type": resource.loose_text("resourceType") if resource else "",
    }
    if service is not None:
        labels["feature"] = service.loose_text("featureName")
        action = service.obj("action")
        labels["action_type"] = action.loose_text("actionType") if action else ""
        api_call = action.obj("awsApiCallAction") if action else None
        labels["api"] = api_call.loose_text("api") if api_call else ""
        extra = service.obj("additionalInfo")
        if extra is not None and extra.get("sample") is True:
            labels["sample"] = "true"
    title = " ".join((f.text("title") or finding_type or "GuardDuty finding").split())[:_TITLE_MAX]
    return Alert(
        source=source,
        format="eventbridge",
        kind="guardduty",
        source_id=finding_id,
        incident_key=f"guardduty:{finding_id}",
        status="firing",
        severity=_guardduty_severity(f),
        title=title,
        observed=first_iso(service.get("eventLastSeen") if service else None, f.get("updatedAt"), f.get("createdAt")),
        entities=bag.freeze(),
        labels={k: v for k, v in labels.items() if v},
        index=index,
    )


def _guardduty_severity(f: Fields) -> str:
    value = f.get("severity")
    if isinstance(value, str) and value.strip() and not value.strip().replace(".", "", 1).isdigit():
        return severity.from_word(value)
    score = f.number("severity")
    return "unknown" if score is None else severity.from_guardduty(score)


def _guardduty_resource(resource: Fields, finding_place: str, bag: EntityBag) -> None:
    keys = resource.obj("accessKeyDetails")
    if keys is not None:
        bag.access_key(keys.loose_text("accessKeyId"))
        user_type = keys.loose_text("userType")
        name = keys.loose_text("userName")
        if user_type == "AssumedRole":
            bag.role(name)
            bag.session_from_principal(keys.loose_text("principalId"))
        elif user_type in ("IAMUser", ""):
            bag.user(name)
    instance = resource.obj("instanceDetails")
    if instance is not None:
        bag.host(instance.loose_text("instanceId"))
        _tags(instance, "tags", finding_place, bag)
    container = resource.obj("containerDetails")
    if container is not None:
        _container(container, bag)
    ecs = resource.obj("ecsClusterDetails")
    task = ecs.obj("taskDetails") if ecs else None
    if task is not None:
        for item in task.objs("containers"):
            _container(item, bag)
    kubernetes = resource.obj("kubernetesDetails")
    workload = kubernetes.obj("kubernetesWorkloadDetails") if kubernetes else None
    if workload is not None:
        if workload.loose_text("type").lower() in ("pods", "pod"):
            bag.pod(workload.loose_text("namespace"), workload.loose_text("name"))
        for item in workload.objs("containers"):
            _container(item, bag)


def _container(c: Fields, bag: EntityBag) -> None:
    bag.container(cid=c.loose_text("id"), name=c.loose_text("name"), image=c.loose_text("image"))


def _tags(owner: Fields, key: str, finding_place: str, bag: EntityBag) -> None:
    """GuardDuty tags: a list of `{key, value}` (`{Key, Value}` in exports)."""
    for tag in owner.objs(key):
        name = tag.loose_text("key")
        if is_agent_tag(name):
            place = join(owner.at(key), name)
            bag.agent(tag.loose_text("value"), relative(place, finding_place))

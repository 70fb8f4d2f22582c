"""Collecting what an alert names into `Entities`: in order, without repeats, ARNs taken apart.

Values are kept as the source sent them; only empty values and the placeholders senders use for
"none" (`<NA>`, Falco's `host` container) are dropped. An explicit agent id is kept once per place
it was read, so two labels that disagree both show, each with its source.
"""

from __future__ import annotations

import re

from ir.alerts.model import Entities

AGENT_TAG_KEYS = ("agent-ir:agent-id", "dev.agent-ir.agent-id", "agent-ir/agent-id", "agent_id", "agent-id")
"""Resource tag and container label keys that carry an explicit agent id (matched ignoring case)."""

_NONE_VALUES = {"", "<na>", "n/a", "null", "none"}
_ACCESS_KEY = re.compile(r"(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\Z")
_HOST_PORT = re.compile(r"(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+)):\d{1,5}\Z")


def is_agent_tag(key: str) -> bool:
    """Whether a tag or label key names an explicit agent id."""
    return key.strip().lower() in AGENT_TAG_KEYS


def strip_port(instance: str) -> str:
    """A Prometheus `instance` (`node-3:9100`, `[::1]:9100`) without its port."""
    match = _HOST_PORT.match(instance.strip())
    if not match:
        return instance
    return match.group("v6") or match.group("host") or instance


class EntityBag:
    """Entities being gathered from one alert; `freeze()` makes the frozen `Entities`."""

    def __init__(self) -> None:
        self._agents: list[tuple[str, str]] = []
        self._fields: dict[str, list[str]] = {
            name: []
            for name in (
                "container_ids",
                "container_names",
                "images",
                "pods",
                "access_key_ids",
                "iam_users",
                "iam_roles",
                "role_sessions",
                "hosts",
            )
        }

    @staticmethod
    def _usable(value: object) -> str | None:
        if not isinstance(value, str):
            return None
        return None if value.strip().lower() in _NONE_VALUES else value

    def _add(self, field: str, value: object) -> None:
        text = self._usable(value)
        if text is not None and text not in self._fields[field]:
            self._fields[field].append(text)

    def agent(self, agent_id: object, source: str) -> None:
        """An explicit agent id and where it was read (`labels.agent_id`)."""
        text = self._usable(agent_id)
        if text is not None and (text, source) not in self._agents:
            self._agents.append((text, source))

    def container(self, *, cid: object = None, name: object = None, image: object = None) -> None:
        """A container by id, name and/or image (Falco's `host` pseudo-container is not one)."""
        if not (isinstance(cid, str) and cid.strip().lower() == "host"):
            self._add("container_ids", cid)
        if not (isinstance(name, str) and name.strip().lower() == "host"):
            self._add("container_names", name)
        self._add("images", image)

    def image(self, repository: object, tag: object = None, digest: object = None) -> None:
        """An image from its parts (`repo`, `tag` → `repo:tag`; a digest → `repo@sha256:…`)."""
        repo = self._usable(repository)
        if repo is None:
            return
        if self._usable(digest) and "@" not in repo:
            self._add("images", f"{repo}@{digest}")
        elif self._usable(tag) and not repo.rsplit("/", 1)[-1].count(":"):
            self._add("images", f"{repo}:{tag}")
        else:
            self._add("images", repo)

    def pod(self, namespace: object, name: object) -> None:
        """A Kubernetes pod as `namespace/pod` (just `pod` when the namespace is unknown)."""
        pod = self._usable(name)
        if pod is None:
            return
        ns = self._usable(namespace)
        self._add("pods", f"{ns}/{pod}" if ns else pod)

    def access_key(self, key_id: object) -> None:
        """An AWS access key id."""
        self._add("access_key_ids", key_id)

    def user(self, name: object) -> None:
        """An IAM user name."""
        self._add("iam_users", name)

    def role(self, name: object, session: object = None) -> None:
        """An IAM role name, and the session name when an assumed-role session is known."""
        self._add("iam_roles", name)
        self._add("role_sessions", session)

    def session_from_principal(self, principal_id: object) -> None:
        """The session name in an assumed-role principal id (`AROA…:session`)."""
        if isinstance(principal_id, str) and principal_id.startswith("AROA") and ":" in principal_id:
            self._add("role_sessions", principal_id.split(":", 1)[1])

    def host(self, name: object) -> None:
        """A host name or instance id."""
        self._add("hosts", name)

    def arn(self, value: object) -> None:
        """Whatever an ARN names: IAM user or role, assumed-role session, EC2 instance, ECS container."""
        if not isinstance(value, str) or not value.startswith("arn:"):
            return
        parts = value.split(":", 5)
        if len(parts) < 6:
            return
        service, resource = parts[2], parts[5]
        kind, _, rest = resource.partition("/")
        if service == "iam" and kind == "user" and rest:
            self.user(rest.rsplit("/", 1)[-1])
        elif service == "iam" and kind == "role" and rest:
            self.role(rest.rsplit("/", 1)[-1])
        elif service == "sts" and kind == "assumed-role" and "/" in rest:
            role, session = rest.rsplit("/", 1)
            self.role(role, session)
        elif service == "ec2" and kind == "instance" and rest:
            self.host(rest)

    def access_key_like(self, value: object) -> None:
        """An access key id if the value looks like one (`AKIA…`, `ASIA…`), else nothing."""
        if isinstance(value, str) and _ACCESS_KEY.match(value) and value[:4] in ("AKIA", "ASIA"):
            self.access_key(value)

    def freeze(self) -> Entities:
        """The frozen entities gathered so far."""
        return Entities(
            agent_ids=tuple(a for a, _ in self._agents),
            agent_id_sources=tuple(s for _, s in self._agents),
            **{name: tuple(values) for name, values in self._fields.items()},
        )

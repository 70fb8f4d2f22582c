"""The `alerts:` section of `ir.yaml`: sources and their auth, routes and policies, the breaker.

```yaml
alerts:
  service: {principal: ir-service}         # who headless runs act and sign as
  sources:
    alertmanager:                           # POST /v1/alerts/alertmanager
      format: alertmanager
      auth: {bearer: [IR_SERVE_TOKEN]}      # env vars holding accepted tokens (rotation: several)
    guardduty:
      format: eventbridge
      auth: {hmac: {scheme: standard-webhooks, secret_env: [IR_GD_SECRET]}}
  routes:
    - name: compromised-agent
      match: {severity: [critical, high]}
      playbook: agent-compromise
      policy: auto_then_approve
  breaker: {max_automatic: 5, minutes: 10}
  fleet: {parallel: 8, max_agents: 50}
  approvals: {tokens: {alice: IR_APPROVAL_TOKEN_ALICE}}
```
Secrets are never written here: only the names of environment variables that hold them.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ir.core.inventory import Frozen

POLICIES = ("observe", "shadow", "approve", "auto_then_approve", "auto")
"""What a route may do, weakest first (README "Alerts": what each one runs)."""

Policy = Literal["observe", "shadow", "approve", "auto_then_approve", "auto"]
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class HmacAuth(Frozen):
    """A body signature over the raw bytes, checked in constant time."""

    scheme: Literal["standard-webhooks", "github", "grafana"]
    """`standard-webhooks` (webhook-id/-timestamp/-signature), `github` (X-Hub-Signature-256:
    sha256=HEX), `grafana` (X-Grafana-Alerting-Signature: HEX, with an optional timestamp header)."""
    secret_env: tuple[str, ...] = Field(min_length=1)
    """Environment variables holding the shared secret(s); several for rotation."""
    window_s: int = Field(default=300, ge=1, le=86400)
    """Replay window: a signed timestamp further than this from now is refused."""

    @field_validator("secret_env", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("secret_env")
    @classmethod
    def _names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if not re.match(ENV_NAME, name):
                raise ValueError(f"{name!r} is not an environment variable name (the secret itself never goes here)")
        return names


class SourceAuth(Frozen):
    """How a source proves it is the source: bearer token(s), an HMAC signature, or both."""

    bearer: tuple[str, ...] = ()
    """Environment variables holding accepted bearer tokens (`Authorization: Bearer …`)."""
    hmac: HmacAuth | None = None
    """A body signature scheme."""

    @field_validator("bearer", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("bearer")
    @classmethod
    def _names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if not re.match(ENV_NAME, name):
                raise ValueError(f"{name!r} is not an environment variable name (the token itself never goes here)")
        return names

    @model_validator(mode="after")
    def _something(self) -> SourceAuth:
        if not self.bearer and self.hmac is None:
            raise ValueError("auth needs `bearer` environment variable names, an `hmac` scheme, or both")
        return self


class Source(Frozen):
    """One alert source: its format and how it authenticates."""

    format: Literal["alertmanager", "eventbridge", "falco", "cloudevents"]
    """How its bodies are read."""
    auth: SourceAuth | None = None
    """Required unless `ir serve` listens on loopback only and the source says `auth: none` by omission."""


class Match(Frozen):
    """What a route matches, on normalised alert fields; every given field must match."""

    source: tuple[str, ...] = ()
    """Source names (as in `sources`)."""
    format: tuple[str, ...] = ()
    """Formats (`alertmanager`, `eventbridge`, `falco`, `cloudevents`)."""
    kind: tuple[str, ...] = ()
    """Source kinds (`guardduty`, `securityhub-asff`, `falco`, `agt`, …)."""
    severity: tuple[str, ...] = ()
    """Normalised severities (`critical`, `high`, `medium`, `low`, `info`, `unknown`)."""
    status: tuple[Literal["firing", "resolved"], ...] = ()
    """`firing` or `resolved`."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Label name → regular expression (full match) on the alert's flat labels."""
    title: str | None = None
    """Regular expression searched in the title."""

    @field_validator("source", "format", "kind", "severity", "status", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("labels")
    @classmethod
    def _label_patterns(cls, labels: dict[str, str]) -> dict[str, str]:
        for name, pattern in labels.items():
            _compiles(pattern, f"labels.{name}")
        return labels

    @field_validator("title")
    @classmethod
    def _title_pattern(cls, title: str | None) -> str | None:
        if title is not None:
            _compiles(title, "title")
        return title


def _compiles(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where}: not a regular expression: {exc}") from None


class Route(Frozen):
    """Alerts matching `match` run `playbook` under `policy`; the first matching route wins."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
    """Named in the journal and in `ir alerts`."""
    match: Match = Field(default_factory=Match)
    """Empty: every alert."""
    playbook: str
    """The playbook id to run (must exist in the workspace)."""
    params: dict[str, str] = Field(default_factory=dict)
    """Playbook parameters."""
    policy: Policy = "auto_then_approve"
    """`observe` journal only; `shadow` journal what would run; `approve` open the case and wait
    before the first mutating step; `auto_then_approve` reversible steps run, irreversible ones
    wait; `auto` run everything (approvals granted by this route, journalled as such)."""
    fleet_by: tuple[Literal["credential", "image", "host", "container"], ...] = ("credential", "image")
    """Resolution rules whose several matches are contained together (a fleet); several matches
    by any other rule are ambiguous and wait. Add `host` only where a host runs one kind of agent."""
    max_agents: int = Field(default=50, ge=1, le=10000)
    """An alert resolving to more agents than this waits for a person instead."""


class Breaker(Frozen):
    """More than `max_automatic` automatic containments in `minutes` stops automation until a person resets it."""

    max_automatic: int = Field(default=10, ge=1)
    """Automatic containments (cases started by `auto` or `auto_then_approve`) allowed in the window."""
    minutes: float = Field(default=10.0, gt=0)
    """The window."""


class Fleet(Frozen):
    """How one alert about many agents is run."""

    parallel: int = Field(default=8, ge=1, le=64)
    """Cases run at once."""


class Service(Frozen):
    """Who headless runs act as; their journal heads are signed with this principal's key
    (`IR_SIGNING_KEY` or `~/.config/agent-ir/keys/<principal>`), an allowed signer with role `service`."""

    principal: str = Field(default="ir-service", pattern=r"^[A-Za-z0-9][A-Za-z0-9@._-]{0,62}$")
    """The actor named in headless cases' records."""


class ApprovalApi(Frozen):
    """`POST /v1/cases/{id}/approvals`: who may approve over HTTP, each with their own token."""

    tokens: dict[str, str] = Field(default_factory=dict)
    """Approver principal → environment variable holding that person's token."""

    @field_validator("tokens")
    @classmethod
    def _names(cls, tokens: dict[str, str]) -> dict[str, str]:
        for who, name in tokens.items():
            if not re.match(ENV_NAME, name):
                raise ValueError(f"{who}: {name!r} is not an environment variable name")
        return tokens


class AlertSettings(Frozen):
    """The whole `alerts:` section."""

    inbox: str = ".ir/inbox.sqlite"
    """The SQLite inbox, relative to the workspace."""
    service: Service = Field(default_factory=Service)
    """Who headless runs act and sign as."""
    sources: dict[str, Source] = Field(default_factory=dict)
    """Source name (the `{source}` of `POST /v1/alerts/{source}`) → format and auth."""
    routes: tuple[Route, ...] = ()
    """Checked in order; an alert no route matches is journalled in the inbox and waits."""
    breaker: Breaker = Field(default_factory=Breaker)
    """Stops automation during a cascade."""
    fleet: Fleet = Field(default_factory=Fleet)
    """Bounded parallelism for one alert about many agents."""
    approvals: ApprovalApi = Field(default_factory=ApprovalApi)
    """Approvals over HTTP."""

    @field_validator("sources")
    @classmethod
    def _source_names(cls, sources: dict[str, Source]) -> dict[str, Source]:
        for name in sources:
            if not re.match(r"^[a-z0-9][a-z0-9_-]{0,62}$", name):
                raise ValueError(f"source name {name!r}: lowercase letters, digits, - and _ only (it is a URL path)")
        return sources

    @field_validator("routes")
    @classmethod
    def _unique_routes(cls, routes: tuple[Route, ...]) -> tuple[Route, ...]:
        seen: set[str] = set()
        for route in routes:
            if route.name in seen:
                raise ValueError(f"route name {route.name!r} is used twice")
            seen.add(route.name)
        return routes

"""The safety interlock: an exercise never touches real infrastructure by mistake.

By default every agent of the scenario must be `backend: simulated`. With `--live-fire`, an agent
may be on Docker Engine, but only on a private engine (a unix socket or a loopback address) and
only if every container it targets carries the label `dev.agent-ir.exercise=<exercise id>`; its
AWS credentials only against an endpoint on loopback (`AWS_ENDPOINT_URL`) with credentials that
are not real-looking (no named profile, no instance or container role, an access key id that is
not shaped like a real one); no hosts (Ansible would act for real) and no provider-token
revocation off loopback. Anything else is refused before the exercise starts, with one line
(exit 2). The execution layer holds the same line at every call, for every command run on the
sandbox (`ir -w <sandbox> run`, `resume`, `contain`, the console): ir/backends/exercise_guard.py.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlparse

from ir.core.errors import InputError
from ir.core.inventory import Agent
from ir.core.workspace import AwsSettings, DockerSettings

LABEL = "dev.agent-ir.exercise"
"""The label a live-fire container must carry, with the exercise id as its value."""
REAL_KEY = re.compile(r"^(AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|APKA)[A-Z0-9]{16}$")
"""The shape of a real AWS access key id; AWS's documentation examples end in EXAMPLE."""
ROLE_CHAIN = (
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)
"""Environment variables that make the standard chain fetch a role's (real) credentials."""


class InterlockRefused(InputError):
    """The exercise would touch something that is not a sandbox (exit 2, before anything starts)."""


def loopback(url: str) -> bool:
    """Whether `url` points at this machine (localhost, 127.0.0.0/8, ::1) or a unix socket."""
    parsed = urlparse(url if "://" in url else f"tcp://{url}")
    if parsed.scheme in ("unix", "npipe"):
        return True
    host = parsed.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_aws(env: Mapping[str, str], aws: AwsSettings) -> None:
    """Refuse unless AWS calls would go to a loopback endpoint with credentials that are not real."""
    endpoint = env.get("AWS_ENDPOINT_URL", "")
    if not endpoint:
        raise InterlockRefused(
            "live fire: AWS_ENDPOINT_URL is not set, so AWS calls would reach real AWS; "
            "point it at a loopback endpoint (e.g. moto_server on 127.0.0.1)"
        )
    for name in sorted(n for n in env if n == "AWS_ENDPOINT_URL" or n.startswith("AWS_ENDPOINT_URL_")):
        if not loopback(env[name]):
            raise InterlockRefused(f"live fire: {name}={env[name]} is not on loopback (127.0.0.1, ::1, localhost)")
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        raise InterlockRefused("live fire: AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true would send calls to real AWS")
    profile = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or aws.profile
    if profile:
        raise InterlockRefused(
            f"live fire: AWS profile {profile!r} would supply real credentials; "
            "unset it and use test credentials (AWS_ACCESS_KEY_ID=testing)"
        )
    for name in ROLE_CHAIN:
        if env.get(name):
            raise InterlockRefused(f"live fire: {name} is set, so the credential chain would use a real role")
    key = env.get("AWS_ACCESS_KEY_ID", "")
    if not key:
        raise InterlockRefused(
            "live fire: AWS_ACCESS_KEY_ID is not set, so the credential chain would look for "
            "real credentials (shared files, instance role); set test ones (e.g. testing)"
        )
    if REAL_KEY.match(key) and "EXAMPLE" not in key:
        raise InterlockRefused(
            f"live fire: AWS_ACCESS_KEY_ID {key[:4]}…{key[-4:]} looks like a real access key; "
            "use a test key (e.g. testing)"
        )


def _docker_host(agent: Agent, env: Mapping[str, str], docker: DockerSettings) -> str:
    chosen = (agent.container.host if agent.container else None) or env.get("DOCKER_HOST") or docker.host
    return chosen or "unix:///var/run/docker.sock"


def check(
    agents: Mapping[str, Agent],
    *,
    live_fire: bool,
    exercise_id: str,
    env: Mapping[str, str],
    aws: AwsSettings,
    docker: DockerSettings,
    labels_of: Callable[[Agent], Mapping[str, str] | None] | None = None,
    where: str = "scenario",
) -> None:
    """Refuse (InterlockRefused, one line) anything of `agents` an exercise may not touch.

    `labels_of` reads a live-fire agent's container labels from its runtime (None: not found);
    the CLI hands it in, as tabletop never talks to Docker itself.
    """
    for agent in agents.values():
        if agent.backend == "simulated":
            continue
        place = f"{where}: world.agents.{agent.id}"
        if not live_fire:
            raise InterlockRefused(
                f"{place}: backend {agent.backend}: an exercise runs on the simulated backends "
                "only (--live-fire allows a labelled, loopback-only sandbox)"
            )
        if agent.hosts:
            raise InterlockRefused(
                f"{place}: hosts {', '.join(agent.hosts)}: live fire does not reach hosts "
                "(Ansible would act on them for real)"
            )
        for credential in agent.credentials:
            url = str((credential.model_extra or {}).get("revoke_url") or "")
            if credential.type == "http.token" and url and not loopback(url):
                raise InterlockRefused(f"{place}: {credential.ident()} revoke_url {url} is not on loopback")
        if any(c.type.startswith("aws.") for c in agent.credentials):
            try:
                check_aws(env, aws)
            except InterlockRefused as exc:
                raise InterlockRefused(f"{place}: {exc}") from None
        if agent.container is None:
            continue
        host = _docker_host(agent, env, docker)
        if not loopback(host):
            raise InterlockRefused(f"{place}: Docker host {host} is not a private engine (unix socket or loopback)")
        labels = labels_of(agent) if labels_of is not None else None
        if labels is None:
            raise InterlockRefused(f"{place}: container {agent.container.ref} not found on {host}")
        if labels.get(LABEL) != exercise_id:
            raise InterlockRefused(
                f"{place}: container {agent.container.ref} does not carry the label "
                f"{LABEL}={exercise_id}; live fire touches only containers labelled for it"
            )

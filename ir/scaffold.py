"""`ir init`: a new workspace with settings, an example inventory and the shipped playbooks."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from ir.core.errors import WorkspaceError

SETTINGS = """\
# agent-ir workspace settings
name: {name}
cases_dir: cases
playbooks_dir: playbooks
tabletop_dir: tabletop  # scenarios for `ir tabletop`
docker:
  host: null          # DOCKER_HOST wins when set
  timeout: 60
approvers:
  oncall: []          # people who may approve gated steps: group:oncall
"""

INVENTORY = """\
# Every agent the team runs: owner, purpose, container, credential references (never values).
agents:
  example-agent:
    owner: team@example.com
    purpose: describe why this agent exists
    backend: docker
    container: {name: example-agent}
    credentials: []
    hosts: []
    logs:
      - {type: docker}
    egress_allowlist: []
"""


def shipped_playbooks() -> list[Path]:
    """The playbook files shipped inside the package."""
    folder = Path(str(resources.files("ir") / "playbooks"))  # in a wheel (force-included)
    if not folder.is_dir():
        folder = Path(__file__).resolve().parent.parent / "playbooks"  # a source checkout
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def init_workspace(target: Path) -> list[Path]:
    """Create a workspace in `target`; refuses to touch an existing one."""
    if (target / "ir.yaml").exists():
        raise WorkspaceError(f"{target}/ir.yaml: already a workspace; nothing changed")
    created: list[Path] = []
    (target / "playbooks").mkdir(parents=True, exist_ok=True)
    (target / "cases").mkdir(exist_ok=True)
    for name, text in (("ir.yaml", SETTINGS.format(name=target.resolve().name)), ("agents.yaml", INVENTORY)):
        path = target / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            created.append(path)
    for source in shipped_playbooks():
        dest = target / "playbooks" / source.name
        if not dest.exists():
            shutil.copyfile(source, dest)
            created.append(dest)
    gitignore = target / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(".ir/\n", encoding="utf-8")
        created.append(gitignore)
    return created

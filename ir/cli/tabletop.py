"""`ir tabletop …`: rehearse an agent incident with the real playbooks in a sandbox, scored from the journal."""

from __future__ import annotations

import click

from ir.cli.tabletop_run import run_cmd


@click.group("tabletop")
def tabletop_group() -> None:
    """Tabletop exercises: scenarios run in a sandbox workspace with the real playbooks."""


tabletop_group.add_command(run_cmd)

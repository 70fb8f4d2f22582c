"""`ir tabletop`: rehearse an agent incident with the real playbooks, scored from the journal."""

from __future__ import annotations

import click

from ir.cli.tabletop_report import report_cmd


@click.group("tabletop")
def tabletop_group() -> None:
    """Tabletop exercises: scenarios, exercises and their after-action reports."""


tabletop_group.add_command(report_cmd)

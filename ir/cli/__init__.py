"""The `ir` command line: a thin click layer over the core, one module per command group."""

from __future__ import annotations

from ir.cli.main import cli, main

__all__ = ["cli", "main"]

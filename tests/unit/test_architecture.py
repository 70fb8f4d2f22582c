"""Imports point inward: `ir.core` never pulls in a UI, the CLI, or a vendor SDK."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import ir.core

FORBIDDEN = (
    "textual",
    "rich",
    "click",
    "docker",
    "boto3",
    "botocore",
    "ansible_runner",
    "requests",
    "ir.backends",
    "ir.actions",
    "ir.cli",
    "ir.tui",
)


def test_core_imports_no_ui_cli_vendor_sdk_or_outer_layer() -> None:
    modules = [f"ir.core.{m.name}" for m in pkgutil.iter_modules(ir.core.__path__)]
    assert "ir.core.engine" in modules and "ir.core.journal" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} or "
        f"any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"ir.core pulled in: {result.stdout.strip()}"


def test_the_cli_starts_without_loading_docker() -> None:
    code = "import sys; import ir.cli; print('docker' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"

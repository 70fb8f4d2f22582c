"""Imports point inward (DESIGN.md, Layout): each layer's contract, checked two ways.

Statically: every `import` in a layer's modules, at any depth (a lazy import in a function
counts), is parsed with `ast` and checked against what the layer may not import. At run time:
importing every module of a layer in a fresh interpreter must not load a forbidden module,
directly or through something else. The CLI may load the console lazily (inside `ir tui`), so
only its module-level imports are held to "no tui", and `import ir.cli` must not load Textual.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UI = ("textual", "rich", "click")
VENDOR = ("docker", "boto3", "botocore", "ansible_runner", "requests", "starlette", "uvicorn")


@dataclass(frozen=True)
class Contract:
    """A layer and what it may not import."""

    layer: str
    forbidden: tuple[str, ...]
    top_level_only: bool = False
    """Only module-level imports count (lazy imports inside functions are allowed)."""


CONTRACTS = (
    Contract(
        "ir.core",
        ("ir.actions", "ir.backends", "ir.timeline", "ir.tui", "ir.cli", "ir.alerts", "ir.tabletop", *UI, *VENDOR),
    ),
    Contract("ir.actions", ("ir.tui", "ir.cli", "ir.backends", *UI, *VENDOR)),
    Contract("ir.backends", ("ir.actions", "ir.tui", "ir.cli", *UI)),
    Contract("ir.timeline", ("ir.actions", "ir.backends", "ir.tui", "ir.cli", *UI, *VENDOR)),
    Contract("ir.report", ("ir.actions", "ir.backends", "ir.tui", "ir.cli", *UI, *VENDOR)),
    Contract(
        "ir.alerts",
        ("ir.actions", "ir.backends", "ir.tui", "ir.cli", "ir.tabletop", *UI, "docker", "boto3", "botocore"),
    ),
    Contract(
        "ir.tabletop",
        ("ir.actions", "ir.backends", "ir.tui", "ir.cli", *UI, "docker", "boto3", "botocore", "ansible_runner"),
    ),
    Contract("ir.tui", ("ir.cli", "click")),
    Contract("ir.cli", ("ir.tui", "textual"), top_level_only=True),
)


def _matches(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The absolute module names one import statement names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: resolve against the importing module's package
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def static_violations(root: Path, contract: Contract) -> list[str]:
    """`file:line: imports X` for every forbidden import in the layer's source under `root`."""
    folder = root.joinpath(*contract.layer.split("."))
    problems = []
    for path in sorted(folder.rglob("*.py")):
        module = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        nodes = tree.body if contract.top_level_only else list(ast.walk(tree))
        for node in nodes:
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = _imported(node, module, path.name == "__init__.py")
            bad = sorted({n for n in names if _matches(n, contract.forbidden)}, key=len)
            if bad:
                problems.append(f"{path.relative_to(root)}:{node.lineno}: {contract.layer} imports {bad[0]}")
    return problems


def runtime_violations(root: Path, contract: Contract) -> list[str]:
    """Forbidden modules loaded by importing every module of the layer in a fresh interpreter."""
    folder = root.joinpath(*contract.layer.split("."))
    modules = [_module_name(path, root) for path in sorted(folder.rglob("*.py"))]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"forbidden = {contract.forbidden!r}\n"
        "print(','.join(sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in forbidden))))\n"
    )
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root, env=env)
    loaded = result.stdout.strip()
    return [f"importing {contract.layer} loads {name}" for name in loaded.split(",")] if loaded else []


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.layer)
def test_layer_imports_point_inward(contract: Contract) -> None:
    assert static_violations(REPO, contract) == []
    assert runtime_violations(REPO, contract) == []


def test_every_layer_of_ir_has_a_contract() -> None:
    layers = {f"ir.{p.name}" for p in (REPO / "ir").iterdir() if (p / "__init__.py").is_file()}
    assert layers <= {c.layer for c in CONTRACTS}


def test_the_cli_starts_without_loading_docker_or_the_console() -> None:
    code = "import sys; import ir.cli; print(sorted(m for m in ('docker', 'textual', 'ir.tui') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_checks_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The checkers themselves, on a throwaway `ir` with one import of each kind they must catch."""
    pkg = tmp_path / "ir"
    for sub in ("core", "tui", "cli"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "tui" / "screen.py").write_text("VALUE = 1\n")
    (pkg / "core" / "ok.py").write_text("from ir.core import other\n")
    (pkg / "core" / "other.py").write_text("")
    (pkg / "core" / "engine.py").write_text("def f():\n    from ..tui import screen\n    return screen\n")
    (pkg / "core" / "leak.py").write_text("import ir.core.step_two\n")
    (pkg / "core" / "step_two.py").write_text("X = __import__('ir.tui.screen')\n")  # not an import statement
    (pkg / "cli" / "main.py").write_text("def tui():\n    import ir.tui.screen\n")
    core = Contract("ir.core", ("ir.tui",))
    assert static_violations(tmp_path, core) == ["ir/core/engine.py:2: ir.core imports ir.tui"]
    assert runtime_violations(tmp_path, core) == [
        "importing ir.core loads ir.tui",
        "importing ir.core loads ir.tui.screen",
    ]
    cli = Contract("ir.cli", ("ir.tui",), top_level_only=True)
    assert static_violations(tmp_path, cli) == []  # a lazy import inside a command is allowed
    assert runtime_violations(tmp_path, cli) == []
    (pkg / "cli" / "main.py").write_text("from ir.tui import screen\n")
    assert static_violations(tmp_path, cli) == ["ir/cli/main.py:1: ir.cli imports ir.tui"]
    assert runtime_violations(tmp_path, cli) == [
        "importing ir.cli loads ir.tui",
        "importing ir.cli loads ir.tui.screen",
    ]

"""The suite's own rule: test modules share helpers through tests/helpers.py, tests/factories.py and
fixtures, never by importing one another or a conftest (pytest loads conftests itself; importing one
runs it twice under another name)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = "tests." * bool(node.level) + (node.module or "")
            found.extend((node.lineno, f"{module}.{alias.name}".strip(".")) for alias in node.names)
            found.append((node.lineno, module))
    return found


def test_no_test_module_imports_another_test_module_or_a_conftest():
    sources = [p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts]
    offenders = [
        f"{path.relative_to(TESTS)}:{line} imports {module}"
        for path in sources
        for line, module in imported_modules(path)
        if module.startswith("tests.") and module.split(".")[-1].startswith(("test_", "conftest"))
    ]
    assert len(sources) > 10, f"only {len(sources)} test sources found under {TESTS}"
    assert offenders == []

"""Where test code may import from: helpers live in tests/support, and tests never import bench.

Importing from a conftest.py or from another test module couples tests to each other's
fixtures and import order; bench importing tests while tests import bench is a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.database import ROOT

TESTS = ROOT / "tests"
SUPPORT = "tests.support"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def _is(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_test_code_imports_helpers_from_tests_support_only() -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in TESTS.rglob("*.py")
        for module in imported_modules(path)
        if _is(module, "bench") or (_is(module, "tests") and not _is(module, SUPPORT))
    }
    assert not wrong, "import these from tests.support instead:\n" + "\n".join(sorted(wrong))


def test_bench_reuses_tests_support_and_nothing_else_of_tests() -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "bench").rglob("*.py")
        for module in imported_modules(path)
        if _is(module, "tests") and not _is(module, SUPPORT)
    }
    assert not wrong, "\n".join(sorted(wrong))

"""The layers of app/ import one way: api -> services -> db (the unit of work, the read
router) -> repositories -> core. app/main.py and the CLI modules wire them and may import
anything. docs/architecture.md draws the same picture."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.support.database import ROOT

APP = ROOT / "app"

# What each package of app/ may import besides itself. Downward edges that skip a layer are
# allowed (services import core; api imports the unit of work for its type); upward ones never.
ALLOWED = {
    "api": {"services", "db", "core"},
    "services": {"db", "repositories", "core"},
    "db": {"repositories", "core"},
    "repositories": {"core"},
    "core": set(),
}


def imports_between_layers() -> set[tuple[str, str, str]]:
    """(importing file, its layer, the layer it imports) for every import of app.<layer>."""
    found = set()
    for path in APP.rglob("*.py"):
        parts = path.relative_to(APP).parts
        if len(parts) < 2:
            continue  # app/main.py, app/cli.py ...: the wiring
        here = parts[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                part = name.split(".")
                if part[0] == "app" and len(part) > 1 and part[1] != here:
                    found.add((str(path.relative_to(ROOT)), here, part[1]))
    return found


def test_every_package_of_app_is_a_known_layer() -> None:
    packages = {p.name for p in APP.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(ALLOWED)


def test_layers_import_only_downward() -> None:
    wrong = sorted(
        f"{path} (app/{here}) imports app.{there}"
        for path, here, there in imports_between_layers()
        if there not in ALLOWED[here]
    )
    assert not wrong, "\n".join(wrong)


@pytest.mark.process
def test_importing_a_repository_loads_no_unit_of_work() -> None:
    """The check from issue 18, in a fresh interpreter: nothing of app.db comes along."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, app.repositories.users; "
            "print(sorted(m for m in sys.modules if m.startswith(('app.db', 'app.services'))))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert loaded.strip() == "[]"

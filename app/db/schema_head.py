"""The migration head(s) this code expects the database to be at, read from alembic/."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "alembic"


@cache
def migration_heads(directory: Path = MIGRATIONS_DIR) -> frozenset[str]:
    """Read once per process and directory: it parses every revision file, and the scripts
    do not change under a running process (the suite builds hundreds of apps)."""
    return frozenset(ScriptDirectory(str(directory)).get_heads())

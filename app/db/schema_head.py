"""The migration head(s) this code expects the database to be at, read from alembic/."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "alembic"


def migration_heads(directory: Path = MIGRATIONS_DIR) -> frozenset[str]:
    """Read once at start-up: it parses every revision file."""
    return frozenset(ScriptDirectory(str(directory)).get_heads())

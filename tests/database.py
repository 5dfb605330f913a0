"""TEMPORARY shim for merging the other branches, to be removed after: import from
tests.support.database instead (tests/test_imports.py says where each name lives now)."""

from tests.support.database import (
    ROOT,
    alembic_config,
    migrate,
    migrated_template,
    postgres_server,
    scratch_cluster,
    throwaway_cluster,
    unique_name,
    with_database,
)

__all__ = [
    "ROOT",
    "alembic_config",
    "migrate",
    "migrated_template",
    "postgres_server",
    "scratch_cluster",
    "throwaway_cluster",
    "unique_name",
    "with_database",
]

"""A migration that fails halfway leaves the schema as it was.

PostgreSQL runs DDL inside transactions, and env.py gives each revision a transaction of
its own: a revision that breaks after creating a table and altering another leaves
neither behind, and the revisions before it stay applied.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy.exc import DBAPIError

from tests.support.database import ROOT, alembic_config
from tests.support.migrations import at_head_with_users, check, revisions, schema_of, users_rows

pytestmark = pytest.mark.slow

HEAD = revisions()[-1]

BROKEN_REVISION = '''"""breaks halfway

Downgrade drops: nothing (it never applies).
"""

import sqlalchemy as sa
from alembic import op

revision = "29991231_9999"
down_revision = "HEAD"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("users", sa.Column("nickname", sa.Text))
    op.execute("UPDATE users SET full_name = 'overwritten'")
    op.execute("SELECT no_such_function()")


def downgrade() -> None:
    pass
'''


@pytest.fixture
def broken_scripts(tmp_path: Path) -> Path:
    """A copy of our migrations with one more revision on top that fails halfway."""
    scripts = tmp_path / "alembic"
    shutil.copytree(ROOT / "alembic", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    source = BROKEN_REVISION.replace('"HEAD"', repr(HEAD))
    (scripts / "versions" / "29991231_9999_breaks_halfway.py").write_text(source)
    return scripts


async def upgrade_with(scripts: Path, url: str) -> None:
    config = alembic_config(url)
    config.set_main_option("script_location", str(scripts))
    await asyncio.to_thread(command.upgrade, config, "head")


async def current_revision(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        revision: str = await conn.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await conn.close()
    return revision


async def test_failing_revision_leaves_schema_and_rows_as_they_were(
    empty_database: str, broken_scripts: Path
) -> None:
    rows = await at_head_with_users(empty_database)
    before = await schema_of(empty_database)

    with pytest.raises(DBAPIError, match="no_such_function"):
        await upgrade_with(broken_scripts, empty_database)

    assert await schema_of(empty_database) == before
    assert await current_revision(empty_database) == HEAD
    assert await users_rows(empty_database) == rows


async def test_revisions_before_the_failing_one_stay_applied(
    empty_database: str, broken_scripts: Path
) -> None:
    with pytest.raises(DBAPIError, match="no_such_function"):
        await upgrade_with(broken_scripts, empty_database)

    report = await check(empty_database)
    assert report.ok, report.render()

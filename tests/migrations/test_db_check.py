"""`auth-service db check` against real drift, and its command line.

A test that starts at head takes a copy of the suite's migrated template (`own_database`):
what is under test is the check, and the migrations' own tests walk them."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import CheckConstraint, MetaData, text
from typer.testing import Result

from app.db import schema_check
from app.db.tables import metadata
from tests.support import cli
from tests.support.database import migrate
from tests.support.migrations import check, downgrade, revisions

pytestmark = pytest.mark.slow

FIRST, *_, HEAD = revisions()


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("ALTER TABLE users DROP COLUMN full_name", "users.full_name: column missing"),
        (
            "ALTER TABLE sessions DROP CONSTRAINT sessions_ended_check",
            "sessions: constraint sessions_ended_check missing",
        ),
    ],
    ids=["column", "check constraint"],
)
async def test_dropped_object_is_named_against_migrations_and_metadata(
    own_database: str, change: str, expected: str
) -> None:
    await execute(own_database, change)

    report = await check(own_database)

    assert not report.ok
    assert report.at_target
    assert any(line.startswith(expected) for line in report.against_migrations)
    assert any(line.startswith(expected) for line in report.against_metadata)


async def test_extra_index_is_reported(own_database: str) -> None:
    await execute(own_database, "CREATE INDEX users_created_at_idx ON users (created_at)")

    report = await check(own_database)

    assert not report.ok
    assert "users: unexpected index users_created_at_idx" in report.render()


async def test_changed_type_and_nullability_are_reported(own_database: str) -> None:
    await execute(
        own_database,
        "ALTER TABLE users ALTER full_name TYPE text, ALTER last_login SET NOT NULL",
    )

    report = await check(own_database)

    assert report.against_metadata == (
        "users.full_name: column differs (is text NULL, expected character varying(200) NULL)",
        "users.last_login: column differs (is timestamp with time zone NOT NULL,"
        " expected timestamp with time zone NULL)",
    )


async def test_head_matches_the_table_metadata_with_no_trigger_or_function_in_the_way(
    own_database: str,
) -> None:
    """tables.py states no trigger or function (not the SECURITY DEFINER one of 0008 either):
    the head's own must not count against it."""

    report = await check(own_database)

    assert report.ok, report.render()
    assert report.against_metadata == ()


def drifted(monkeypatch: pytest.MonkeyPatch) -> MetaData:
    """A copy of tables.py's metadata that `db check` compares with instead, to change."""
    copy = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    monkeypatch.setattr(schema_check, "metadata", copy)
    return copy


async def the_one_metadata_difference(url: str) -> str:
    """Check `url` (at head): the migrations' schema matches, tables.py not."""
    report = await check(url)
    assert not report.ok
    assert report.against_migrations == ()
    (line,) = report.against_metadata
    return line


async def test_check_expression_changed_in_tables_py_only_is_reported(
    own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if tables.py had missed 0009's rename of 'failure' to 'bad_credentials'."""
    table = drifted(monkeypatch).tables["login_attempts"]
    (old,) = [c for c in table.constraints if c.name == "login_attempts_outcome_check"]
    table.constraints.remove(old)
    table.append_constraint(
        CheckConstraint(
            "outcome IN ('pending', 'failure', 'locked', 'inactive', 'success')", name=old.name
        )
    )
    line = await the_one_metadata_difference(own_database)

    assert line.startswith("login_attempts: constraint login_attempts_outcome_check differs (is ")
    assert "'bad_credentials'" in line.partition("expected")[0]
    assert "'failure'" in line.partition("expected")[2]


async def test_partial_index_predicate_changed_in_tables_py_only_is_reported(
    own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = drifted(monkeypatch).tables["login_attempts"]
    (index,) = [i for i in table.indexes if i.name == "login_attempts_email_key_counted_idx"]
    index.dialect_options["postgresql"]["where"] = text("outcome IN ('pending', 'failure')")
    line = await the_one_metadata_difference(own_database)

    assert line.startswith("login_attempts: index login_attempts_email_key_counted_idx differs")
    assert "'failure'" in line.partition("expected")[2]


async def test_missing_trigger_is_reported(own_database: str) -> None:
    """Table metadata cannot describe triggers; the migrations' schema can."""
    await execute(own_database, "DROP TRIGGER users_set_updated_at ON users")

    report = await check(own_database)

    assert not report.ok
    assert report.against_metadata == ()
    assert any("trigger users_set_updated_at missing" in line for line in report.against_migrations)


async def test_database_behind_head_fails_and_says_where_it_is(empty_database: str) -> None:
    await migrate(empty_database, FIRST)

    report = await check(empty_database)

    assert not report.ok
    assert f"database is at {FIRST}, expected {HEAD} (head)" in report.render()


async def test_database_rolled_back_passes_the_check_at_its_revision(
    own_database: str,
) -> None:
    await downgrade(own_database, FIRST)

    report = await check(own_database, FIRST)

    assert report.ok, report.render()


async def test_empty_database_is_at_base(empty_database: str) -> None:
    report = await check(empty_database)

    assert not report.ok
    assert f"database is at base, expected {HEAD} (head)" in report.render()
    assert (await check(empty_database, "base")).ok


async def test_check_leaves_no_scratch_schema_behind(own_database: str) -> None:
    await check(own_database)

    conn = await asyncpg.connect(own_database)
    try:
        leftovers = await conn.fetchval(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'schema_check_%'"
        )
    finally:
        await conn.close()
    assert leftovers == 0


async def auth_service(url: str, *args: str) -> Result:
    return await cli.auth_service(*args, env={"DATABASE_URL": url})


async def test_cli_check_exits_nonzero_and_names_the_dropped_column(own_database: str) -> None:
    assert (await auth_service(own_database, "db", "check")).exit_code == 0
    await execute(own_database, "ALTER TABLE users DROP COLUMN full_name")

    result = await auth_service(own_database, "db", "check")

    assert result.exit_code == 1
    assert "users.full_name: column missing" in result.output


async def test_cli_downgrades_one_step_by_default_and_to_a_named_revision(
    empty_database: str,
) -> None:
    assert (await auth_service(empty_database, "db", "upgrade")).exit_code == 0

    assert (await auth_service(empty_database, "db", "downgrade")).exit_code == 0
    assert (await check(empty_database, revisions()[-2])).ok

    assert (await auth_service(empty_database, "db", "upgrade")).exit_code == 0
    assert (await auth_service(empty_database, "db", "downgrade", FIRST)).exit_code == 0
    result = await auth_service(empty_database, "db", "check", FIRST)
    assert result.exit_code == 0, result.output

    assert (await auth_service(empty_database, "db", "downgrade", "base")).exit_code == 0
    assert (await check(empty_database, "base")).ok


async def test_cli_check_of_an_unknown_revision_says_so(empty_database: str) -> None:
    result = await auth_service(empty_database, "db", "check", "20000101_9999")

    assert result.exit_code == 2
    assert "20000101_9999" in result.output

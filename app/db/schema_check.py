"""`auth-service db check`: is the database where it should be, and does it look like it?

Three questions, one report:

1. Is the database at the expected revision (head unless told otherwise)?
2. Does its schema equal the one the migrations build at that revision? The reference is
   built in a scratch schema inside a transaction that is rolled back, so the check leaves
   nothing behind and needs no second database; it covers triggers and functions too.
3. At head, does the schema match the table metadata in app/db/tables.py (alembic's
   comparison: tables, columns, types, nullability, defaults, indexes, constraints)?

The check needs the privileges migrations need (CREATE on the database), and assumes what
ours do: migrations that run inside a transaction and name objects without a schema.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.schema import DefaultClause

from app.db import catalog
from app.db.tables import metadata
from app.db.urls import sqlalchemy_async_url

# alembic's env.py and this check compare the same things.
COMPARE_OPTIONS: dict[str, Any] = {"compare_type": True, "compare_server_default": True}


@dataclass(frozen=True)
class SchemaReport:
    target: str | None  # the revision checked against; None for base (an empty schema)
    head: str | None
    current: tuple[str, ...]
    # One readable line each, naming table and column or object.
    against_migrations: tuple[str, ...]  # the schema the migrations build at `target`
    against_metadata: tuple[str, ...]  # app/db/tables.py (compared at head only)

    @property
    def differences(self) -> tuple[str, ...]:
        return self.against_migrations + self.against_metadata

    @property
    def at_target(self) -> bool:
        return self.current == ((self.target,) if self.target else ())

    @property
    def ok(self) -> bool:
        return self.at_target and not self.differences

    def render(self, database: str = "") -> str:
        target = _label(self.target, self.head)
        where = f" on {database}" if database else ""
        lines = [f"Schema check against {target}{where}"]
        if not self.at_target:
            current = ", ".join(_label(rev, self.head) for rev in self.current) or "base"
            lines.append(f"  revision: database is at {current}, expected {target}")
        if self.against_migrations:
            lines.append(f"Against the schema the migrations build at {target}:")
            lines += [f"  {line}" for line in self.against_migrations]
        if self.against_metadata:
            lines.append("Against the table metadata (app/db/tables.py):")
            lines += [f"  {line}" for line in self.against_metadata]
        if self.ok:
            lines.append("OK: at the expected revision, and the schema matches")
        else:
            count = len(self.differences) + (0 if self.at_target else 1)
            lines.append(f"FAILED: {count} difference{'s' if count != 1 else ''}")
        return "\n".join(lines)


def check_schema(config: Config, url: str, revision: str = "head") -> SchemaReport:
    """Compare the database at `url` with `revision` of the migrations in `config`.

    Runs its own event loop, like alembic's env.py: call it from synchronous code (or a
    thread of its own).
    """
    script = ScriptDirectory.from_config(config)
    target = script.as_revision_number(revision)
    if isinstance(target, tuple):
        raise ValueError(f"{revision!r} names several revisions: check one at a time")
    return asyncio.run(_check(config, script, url, target))


def display_url(url: str) -> str:
    """The database a report is about, without its password."""
    return make_url(url).render_as_string(hide_password=True)


async def _check(
    config: Config, script: ScriptDirectory, url: str, target: str | None
) -> SchemaReport:
    engine = create_async_engine(sqlalchemy_async_url(url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_check_on, config, script, target)
    finally:
        await engine.dispose()


def _check_on(
    connection: Connection, config: Config, script: ScriptDirectory, target: str | None
) -> SchemaReport:
    head = script.get_current_head()
    transaction = connection.begin()
    try:
        current = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
        live = catalog.snapshot(connection)
        against_metadata = metadata_differences(connection) if target == head else []
        reference = _reference(connection, config, script, target)
    finally:
        transaction.rollback()  # the scratch schema goes with it
    against_migrations = catalog.compare(reference, live)
    return SchemaReport(target, head, current, tuple(against_migrations), tuple(against_metadata))


def _reference(
    connection: Connection, config: Config, script: ScriptDirectory, target: str | None
) -> catalog.Snapshot:
    """What the migrations build at `target`, built in a scratch schema (caller rolls back)."""
    if target is None:
        return {}
    scratch = f"schema_check_{uuid.uuid4().hex[:12]}"
    saved_path = connection.execute(text("SHOW search_path")).scalar_one()
    connection.execute(text(f'CREATE SCHEMA "{scratch}"'))
    connection.execute(text("SELECT set_config('search_path', :path, true)"), {"path": scratch})

    def upgrade(rev: Any, _context: MigrationContext) -> Any:
        return script._upgrade_revs(target, rev)  # what alembic's own `upgrade` command runs

    # Already inside our transaction: alembic sees it as external and never commits.
    with EnvironmentContext(config, script, fn=upgrade, destination_rev=target) as env:
        env.configure(connection=connection)
        env.run_migrations()
    reference = catalog.snapshot(connection, scratch)
    connection.execute(text("SELECT set_config('search_path', :path, true)"), {"path": saved_path})
    return reference


def metadata_differences(connection: Connection) -> list[str]:
    """alembic's comparison of the live schema with app/db/tables.py, one line each."""
    context = MigrationContext.configure(
        connection, opts={**COMPARE_OPTIONS, "target_metadata": metadata}
    )
    lines: list[str] = []
    for diff in compare_metadata(context, metadata):
        # Column modifications come grouped in a list per column; the rest one by one.
        for op in diff if isinstance(diff, list) else [diff]:
            lines.append(_describe(op))
    return lines


def _describe(op: tuple[Any, ...]) -> str:
    kind = op[0]
    if kind in ("add_table", "remove_table"):
        return f"{op[1].name}: " + ("table missing" if kind == "add_table" else "unexpected table")
    if kind in ("add_column", "remove_column"):
        where = f"{op[2]}.{op[3].name}"
        if kind == "add_column":
            return f"{where}: column missing ({op[3].type} {_nullability(op[3].nullable)})"
        return f"{where}: unexpected column ({op[3].type})"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        obj = op[1]
        noun = "index" if kind.endswith("index") else "constraint"
        name = f"{noun} {obj.name}" if obj.name else f"unnamed {noun}"
        return f"{obj.table.name}: " + (
            f"{name} missing" if kind.startswith("add") else f"unexpected {name}"
        )
    if kind in ("add_fk", "remove_fk"):
        fk = op[1]
        columns = ", ".join(fk.column_keys)
        return f"{fk.parent.name}: foreign key ({columns}) " + (
            "missing" if kind == "add_fk" else "unexpected"
        )
    if kind in ("modify_type", "modify_nullable", "modify_default", "modify_comment"):
        _, _, table, column, _existing, actual, expected = op
        attribute = kind.removeprefix("modify_")
        if kind == "modify_nullable":
            actual, expected = _nullability(actual), _nullability(expected)
        elif kind == "modify_default":
            actual, expected = _default(actual), _default(expected)
        return f"{table}.{column}: {attribute} is {actual}, expected {expected}"
    return repr(op)


def _nullability(nullable: bool | None) -> str:
    return "NULL" if nullable else "NOT NULL"


def _default(default: Any) -> str:
    if default is None or default is False:
        return "none"
    if isinstance(default, DefaultClause) and isinstance(default.arg, TextClause):
        return str(default.arg.text)
    if isinstance(default, DefaultClause):
        return str(default.arg)
    return str(default)


def _label(revision: str | None, head: str | None) -> str:
    if revision is None:
        return "base"
    return f"{revision} (head)" if revision == head else revision

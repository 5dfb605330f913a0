"""`auth-service db check`: is the database where it should be, and does it look like it?

Three questions, one report:

1. Is the database at the expected revision (head unless told otherwise)?
2. Does its schema equal the one the migrations build at that revision? The reference is
   built in a scratch schema inside a transaction that is rolled back, so the check leaves
   nothing behind and needs no second database; it covers triggers and functions too.
3. At head, does the schema match the table metadata in app/db/tables.py? The metadata is
   built (`create_all`) in a second scratch schema of the same transaction and described by
   the same catalog comparison as question 2, so CHECK expressions, partial-index predicates
   and index expressions count too; alembic's `compare_metadata` (what `alembic check` runs)
   reads none of those, and everything it does read (tables, columns, types, nullability,
   defaults, indexes, constraints, foreign keys) the catalog reads as well, so it is not run.
   Only what tables.py can state is compared: tables, columns, constraints, indexes. Triggers
   and functions (the updated_at trigger, the SECURITY DEFINER anonymise_audit_events of
   20261202_0008) exist only in migrations, so they are left to question 2; grants and roles
   are in no snapshot at all. Comments and identity sequence options are not compared
   (tables.py states neither).

The check needs the privileges migrations need (CREATE on the database), and assumes what
ours do: migrations that run inside a transaction and name objects without a schema.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import catalog
from app.db.tables import metadata
from app.db.urls import sqlalchemy_async_url

# What app/db/tables.py can state; the rest of a snapshot (triggers, functions) only
# migrations make, so comparing it with the metadata would report false differences.
METADATA_KINDS = frozenset({"table", "column", "constraint", "index"})


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
        stated = _metadata_reference(connection) if target == head else None
        reference = _reference(connection, config, script, target)
    finally:
        transaction.rollback()  # the scratch schemas go with it
    against_migrations = catalog.compare(reference, live)
    against_metadata = [] if stated is None else metadata_differences(stated, live)
    return SchemaReport(target, head, current, tuple(against_migrations), tuple(against_metadata))


def _reference(
    connection: Connection, config: Config, script: ScriptDirectory, target: str | None
) -> catalog.Snapshot:
    """What the migrations build at `target`, built in a scratch schema (caller rolls back)."""
    if target is None:
        return {}

    def upgrade(rev: Any, _context: MigrationContext) -> Any:
        return script._upgrade_revs(target, rev)  # what alembic's own `upgrade` command runs

    def build() -> None:
        # Already inside our transaction: alembic sees it as external and never commits.
        with EnvironmentContext(config, script, fn=upgrade, destination_rev=target) as env:
            env.configure(connection=connection)
            env.run_migrations()

    return _built_in_scratch(connection, build)


def _metadata_reference(connection: Connection) -> catalog.Snapshot:
    """What app/db/tables.py states, built in a scratch schema (caller rolls back)."""
    return _built_in_scratch(connection, lambda: metadata.create_all(connection, checkfirst=False))


def _built_in_scratch(connection: Connection, build: Callable[[], None]) -> catalog.Snapshot:
    """Run `build` with search_path on a new schema, and describe what it made there."""
    scratch = f"schema_check_{uuid.uuid4().hex[:12]}"
    saved_path = connection.execute(text("SHOW search_path")).scalar_one()
    connection.execute(text(f'CREATE SCHEMA "{scratch}"'))
    connection.execute(text("SELECT set_config('search_path', :path, true)"), {"path": scratch})
    build()
    built = catalog.snapshot(connection, scratch)
    connection.execute(text("SELECT set_config('search_path', :path, true)"), {"path": saved_path})
    return built


def metadata_differences(stated: catalog.Snapshot, live: catalog.Snapshot) -> list[str]:
    """The live schema against app/db/tables.py, in what the metadata can state."""
    return catalog.compare(stated, {k: v for k, v in live.items() if k.kind in METADATA_KINDS})


def _label(revision: str | None, head: str | None) -> str:
    if revision is None:
        return "base"
    return f"{revision} (head)" if revision == head else revision

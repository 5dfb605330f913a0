"""Databases of a test's own, reused when that is provably the same as a fresh one.

CREATE DATABASE copies the whole catalog (about 8 MB) and took 0.3-1 s here, once for each of
some 70 tests. So a database a test is done with is cleaned instead: its connections are
ended, every row of every table but alembic_version is deleted and the sequences are set back
to their start, and then a digest of its catalog must equal the one a fresh copy has. Only
then is it handed to the next test; anything else (a changed schema, a prepared transaction,
a connection that would not go) and it is dropped and a fresh copy made. An empty database
has its schemas dropped and `public` made again, then passes the same check. A test cannot
tell the difference, except by its oid and the dead rows its predecessor left for vacuum.

DELETE, not TRUNCATE: TRUNCATE gives every table and index a new file, 65 ms of server time
per cleaning here against a few for deleting the handful of rows a test leaves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from app.db.local import create_database, drop_database
from tests.support.database import unique_name, with_database
from tests.support.polling import eventually

# Everything a test could see of a database's own schema, as one sorted text: schemas (with
# owner and grants), relations, columns, indexes, constraints, triggers, functions, types,
# extensions, sequences' state, and per-database settings.
CATALOG_DIGEST = r"""
WITH user_namespaces AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
), items(item) AS (
    SELECT 'schema ' || nspname || ' ' || nspowner::regrole::text || ' '
        || coalesce(nspacl::text, '')
    FROM pg_namespace WHERE oid IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' '
        || coalesce(pg_get_viewdef(c.oid), '') || ' ' || coalesce(c.relacl::text, '')
    FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' '
        || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text || ' '
        || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace IN (SELECT oid FROM user_namespaces)
        AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT 'function ' || oid::regprocedure || ' ' || md5(prosrc)
    FROM pg_proc WHERE pronamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || ' '
        || coalesce((SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
                     FROM pg_enum WHERE enumtypid = t.oid), '')
    FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension
    UNION ALL
    SELECT 'sequence ' || schemaname || '.' || sequencename || ' '
        || coalesce(last_value::text, 'unused')
    FROM pg_sequences
    UNION ALL
    SELECT 'settings ' || array_to_string(setconfig, ',') FROM pg_db_role_setting
    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
)
SELECT coalesce(string_agg(item, E'\n' ORDER BY item), '') FROM items
"""
# Empties every user table but alembic_version and restarts every sequence, as a fresh copy
# has them. As the superuser in replica mode, so that neither foreign keys (no order to find)
# nor the audit trail's own triggers stand in the way; the connection takes the digest and
# then ends, so the setting goes with it.
EMPTY_TABLES = r"""
SET session_replication_role = replica;
DO $$
DECLARE table_name text;
BEGIN
    FOR table_name IN SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
            AND (schemaname, tablename) <> ('public', 'alembic_version')
    LOOP
        EXECUTE 'DELETE FROM ' || table_name;
    END LOOP;
END $$;
SELECT setval(seqrelid, seqstart, false) FROM pg_sequence;
"""
# For an empty database: drop whatever a test built and recreate `public` as initdb makes it.
EMPTIED = r"""
DO $$
DECLARE schema_name text;
BEGIN
    FOR schema_name IN SELECT nspname FROM pg_namespace
        WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
    LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', schema_name);
    END LOOP;
END $$;
CREATE SCHEMA public AUTHORIZATION pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
"""
DISCONNECT_SECONDS = 10.0


class ScratchDatabases:
    """Copies of `template` (a database name; None for empty ones) on one server, lent to one
    test at a time."""

    def __init__(self, server_url: str, template: str | None, prefix: str) -> None:
        self.server_url = server_url
        self.template = template
        self.prefix = prefix
        self.clean: list[str] = []
        self.pristine: str | None = None  # a fresh copy's catalog digest
        self.made = 0  # copies made, for docs/testing.md's figures

    @asynccontextmanager
    async def lend(self) -> AsyncIterator[str]:
        name = self.clean.pop() if self.clean else await self._fresh()
        try:
            yield with_database(self.server_url, name)
        finally:
            if await self._cleaned(name):
                self.clean.append(name)
            else:
                await drop_database(self.server_url, name)

    async def close(self) -> None:
        for name in self.clean:
            await drop_database(self.server_url, name)
        self.clean.clear()

    async def _fresh(self) -> str:
        name = unique_name(self.prefix)
        await create_database(self.server_url, name, template=self.template)
        self.made += 1
        if self.pristine is None:
            self.pristine = await self._digest(name)
        return name

    async def _digest(self, name: str) -> str:
        conn = await asyncpg.connect(with_database(self.server_url, name))
        try:
            return await self._digest_on(conn)
        finally:
            await conn.close()

    @staticmethod
    async def _digest_on(conn: asyncpg.Connection) -> str:
        digest: str = await conn.fetchval(CATALOG_DIGEST)
        if await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
            versions = await conn.fetch("SELECT version_num FROM alembic_version ORDER BY 1")
            digest += "\nalembic " + ",".join(row[0] for row in versions)
        return digest

    async def _cleaned(self, name: str) -> bool:
        """Whether `name` is now as a fresh copy would be (it is left to drop otherwise)."""
        if not await self._disconnected(name):
            return False
        conn = await asyncpg.connect(with_database(self.server_url, name))
        try:
            if self.template is None:  # nothing to keep: start the schema over
                await conn.execute(EMPTIED)
            await conn.execute(EMPTY_TABLES)
            return await self._digest_on(conn) == self.pristine
        except asyncpg.PostgresError:
            return False
        finally:
            await conn.close()

    async def _disconnected(self, name: str) -> bool:
        """End every session on `name`; False if one stays, or a prepared transaction does."""
        server = await asyncpg.connect(self.server_url)
        try:
            others = "FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
            await server.execute(f"SELECT pg_terminate_backend(pid) {others}", name)

            async def gone() -> bool:
                return not await server.fetchval(f"SELECT count(*) {others}", name)

            await eventually(gone, seconds=DISCONNECT_SECONDS)
            prepared = "SELECT count(*) FROM pg_prepared_xacts WHERE database = $1"
            return not await server.fetchval(prepared, name)
        except TimeoutError:
            return False
        finally:
            await server.close()

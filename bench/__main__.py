"""`python -m bench [--quick] [--workers N]`: run every benchmark, print the table and write
docs/benchmarks.md and docs/benchmarks.png.

A full run takes about 8 minutes on 2 cores; `--quick` (about 2 minutes) is for working
on the bench itself, and marks its report as such.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
from pathlib import Path
from typing import Any

from app.core.settings import Settings
from bench import database, isolation, machine, phases, report, rounds, servers
from bench.wrk import Wrk, ensure_installed

DOCS = Path(__file__).resolve().parent.parent / "docs"


def server_env(url: str) -> dict[str, str]:
    """The servers' configuration: production mode, the environment's tunables kept."""
    configured = Settings(_env_file=None)
    return {
        "APP_ENV": "production",
        "DATABASE_URL": url,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "JWT_EXPIRES_MINUTES": "120",  # outlives the run: seeded tokens are issued once
        "BCRYPT_ROUNDS": str(configured.bcrypt_rounds),
        "DB_POOL_MIN_SIZE": str(configured.db_pool_min_size),
        "DB_POOL_MAX_SIZE": str(configured.db_pool_max_size),
        "LOG_LEVEL": configured.log_level.lower(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, for working on the bench")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where the report goes")
    args = parser.parse_args()
    plan = phases.Plan.quick(args.workers) if args.quick else phases.Plan.full(args.workers)

    started = report.now()
    load_before = machine.load_average()
    wrk = Wrk(ensure_installed())
    with database.postgres_server() as (server_url, source):
        version = asyncio.run(database.server_version(server_url))
        with database.bench_database(server_url) as url:
            env = server_env(url)
            values: dict[str, Any] = {key.lower(): value for key, value in env.items()}
            settings = Settings(_env_file=None, **values)
            print(f"seeding {plan.users} users...", flush=True)
            seeded = asyncio.run(database.seed_users(url, settings, plan.users))
            log_level = env["LOG_LEVEL"]

            def project(port: int | str) -> list[str]:
                return servers.project_command(port, plan.workers)

            def ceiling(port: int | str) -> list[str]:
                return servers.uvicorn_command(
                    "bench.ceiling:create_app", port, plan.workers, log_level
                )

            print("GET /api/v1/users/me sweep", flush=True)
            with (
                servers.running(project, env, name="project") as project_server,
                servers.running(ceiling, env, name="ceiling") as ceiling_server,
            ):
                swept = phases.sweep(
                    wrk, {"project": project_server, "ceiling": ceiling_server}, seeded, plan
                )
                print(f"ratio rounds at c=32 ({plan.ratio_rounds} rounds)", flush=True)
                ratio_rounds = rounds.interleaved(
                    wrk,
                    {"project": project_server},
                    ceiling_server,
                    seeded,
                    rounds=plan.ratio_rounds,
                    seconds=plan.round_seconds,
                )["project"]
                rss_after_mb = rounds.rss_mb(project_server)
            project_results, ceiling_results = swept["project"], swept["ceiling"]
            print("login and /health", flush=True)
            bcrypt_rounds = settings.bcrypt_rounds
            verify_ms = phases.verify_time_ms(bcrypt_rounds, 3 if args.quick else 7)
            parallel_rate = phases.parallel_verify_rate(
                bcrypt_rounds, os.cpu_count() or 1, 2 if args.quick else 4
            )
            with servers.running(project, env, name="project") as server:
                login = phases.logins(
                    wrk,
                    server,
                    seeded,
                    plan,
                    rounds=bcrypt_rounds,
                    verify_ms=verify_ms,
                    parallel_rate=parallel_rate,
                )
            print("connection usage (mixed requests, c=64)", flush=True)
            usage, probe_command = phases.connection_usage(
                wrk, env, url, seeded, plan, pool_max=settings.db_pool_max_size
            )
        print("test isolation: savepoint vs truncate", flush=True)
        with database.bench_database(server_url) as isolation_url:
            savepoint, truncate = asyncio.run(
                isolation.compare(isolation_url, plan.isolation_tests)
            )

    shown_env = {k: ("(random, 64 chars)" if k == "JWT_SECRET" else v) for k, v in env.items()}
    shown_env["DATABASE_URL"] = "(a fresh migrated database)"
    commands = [
        "# the project and the ceiling run side by side and take turns; the probe runs alone",
        servers.shown(project("PORT")),
        servers.shown(ceiling("PORT")),
        probe_command,
        "# load: scripts from bench/lua/, the seeded tokens and emails prepended",
        "# GET /users/me on the project, then the same on the ceiling, in turns per level",
        *(r.command for r in project_results),
        "# logins on the project, with the paced /health probe started 1 s later",
        login.login.command,
        login.health.command,
        "# mixed requests on the probe; each wrk thread stops itself after half the total",
        usage.load.command,
    ]
    run = report.Run(
        plan=plan,
        quick=args.quick,
        sweep=[
            phases.SweepPoint(c, p, ce)
            for c, p, ce in zip(plan.concurrencies, project_results, ceiling_results, strict=True)
        ],
        login=login,
        rounds=ratio_rounds,
        rss_after_mb=rss_after_mb,
        savepoint=savepoint,
        truncate=truncate,
        connections=usage,
        settings=shown_env,
        machine=machine.facts(version, source),
        load_before=load_before,
        load_after=machine.load_average(),
        commands=commands,
        started=started,
    )
    print(report.console(run))
    args.docs.mkdir(parents=True, exist_ok=True)
    report.plot(run, args.docs / "benchmarks.png")
    (args.docs / "benchmarks.md").write_text(report.markdown(run, "benchmarks.png"))
    print(f"\nwrote {args.docs / 'benchmarks.md'} and {args.docs / 'benchmarks.png'}")


if __name__ == "__main__":
    main()

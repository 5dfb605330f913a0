"""`python -m bench.session_check --before DIR`: what the session check costs GET /users/me.

DIR holds a checkout of the code before it (for example `git archive c9e810a | tar -x -C
DIR`). Both servers run side by side on one fresh database migrated to this tree's head,
with the same seeded users, each holding a session and an access token that carries both
`sub` and `sid` (the older code ignores `sid`). They take turns, in alternating order,
for several rounds at each concurrency, so background load on a shared machine hits both
alike; the report gives the median of each and their ratio, for throughput and for server
CPU per request (the steadier of the two).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path
from typing import Any

from app.core.settings import Settings
from bench import database, phases, servers
from bench.__main__ import server_env
from bench.wrk import LoadResult, Wrk, ensure_installed


def module_command(port: int | str, workers: int) -> list[str]:
    """`python -m app serve`: with -m, `app` is imported from the working directory, so
    the server runs the checkout it is started in."""
    argv = servers.project_command(port, workers)
    return [sys.executable, "-m", "app", *argv[1:]]


def median(results: list[LoadResult], key: str) -> float:
    return float(statistics.median(float(getattr(result, key)) for result in results))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.session_check", description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--rounds", type=int, default=5, help="turns per concurrency level")
    parser.add_argument("--seconds", type=float, default=4, help="length of each turn")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    plan = phases.Plan((max(args.concurrency),), args.seconds, 2, 0, 0, 0, 1, 50)

    wrk = Wrk(ensure_installed())
    with (
        database.postgres_server() as (server_url, _),
        database.bench_database(server_url) as url,
    ):
        env = server_env(url)
        values: dict[str, Any] = {key.lower(): value for key, value in env.items()}
        settings = Settings(_env_file=None, **values)
        seeded = asyncio.run(database.seed_users(url, settings, plan.users))
        data = {"TOKENS": seeded.tokens}
        with (
            servers.running(
                lambda port: module_command(port, 1), env, name="before", cwd=args.before
            ) as before,
            servers.running(lambda port: module_command(port, 1), env, name="sessions") as after,
        ):
            targets = {"before": before, "sessions": after}
            for server in targets.values():  # warm-up
                wrk.run(server.url, "users_me", data, connections=32, seconds=plan.warmup_seconds)
            for connections in args.concurrency:
                results: dict[str, list[LoadResult]] = {label: [] for label in targets}
                for round_number in range(args.rounds):
                    order = list(targets) if round_number % 2 == 0 else list(reversed(targets))
                    for label in order:
                        result = phases.measured(
                            wrk,
                            targets[label],
                            "users_me",
                            data,
                            connections=connections,
                            seconds=args.seconds,
                        )
                        if result.non_2xx_3xx or result.socket_errors:
                            raise RuntimeError(f"{label}: failed requests: {result}")
                        results[label].append(result)
                        print(
                            f"  c={connections:<3} round {round_number} {label:9}"
                            f"{result.rps:8.0f} req/s {result.cpu_us_per_request:6.0f} us CPU/req",
                            flush=True,
                        )
                old, new = results["before"], results["sessions"]
                print(
                    f"c={connections}: median req/s before {median(old, 'rps'):.0f}, "
                    f"sessions {median(new, 'rps'):.0f}, ratio "
                    f"{median(new, 'rps') / median(old, 'rps'):.3f}; median CPU/request before "
                    f"{median(old, 'cpu_us_per_request'):.0f} us, sessions "
                    f"{median(new, 'cpu_us_per_request'):.0f} us, ratio "
                    f"{median(new, 'cpu_us_per_request') / median(old, 'cpu_us_per_request'):.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

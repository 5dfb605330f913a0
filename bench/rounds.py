"""GET /users/me on the project and the ceiling in alternating rounds at one concurrency.

On a shared machine absolute numbers mean little; ratios taken round by round, with their
spread, do. The worker's RSS after every round shows whether anything per request (the
token cache, the metrics, the access log) keeps memory.

`python -m bench.rounds [--rounds N] [--seconds S]` runs just this phase, for A/B work.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import pool_stats, servers
from bench.database import Seeded
from bench.wrk import LoadResult, Wrk


@dataclass(frozen=True)
class Round:
    project: LoadResult
    ceiling: LoadResult
    project_rss_mb: float
    pool: pool_stats.PoolReading | None = None  # the project's pool over this round

    @property
    def rps_ratio(self) -> float:
        return self.project.rps / self.ceiling.rps if self.ceiling.rps else 0.0

    @property
    def p99_ratio(self) -> float:
        return self.project.p99_ms / self.ceiling.p99_ms if self.ceiling.p99_ms else 0.0

    @property
    def cpu_ratio(self) -> float:
        """Ceiling CPU per request over the project's: steadier than req/s under load."""
        project = self.project.cpu_us_per_request
        return self.ceiling.cpu_us_per_request / project if project else 0.0


@dataclass(frozen=True)
class Rounds:
    connections: int
    rounds: list[Round]

    @property
    def rps_ratio(self) -> float:
        return statistics.median(r.rps_ratio for r in self.rounds)

    @property
    def p99_ratio(self) -> float:
        return statistics.median(r.p99_ratio for r in self.rounds)

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(r.cpu_ratio for r in self.rounds)

    @property
    def rss_growth_mb(self) -> float:
        """RSS after the last round minus after the first (warm-up excluded)."""
        return self.rounds[-1].project_rss_mb - self.rounds[0].project_rss_mb


def rss_mb(server: servers.Server) -> float:
    """Resident memory of the server's process tree (supervisor and worker)."""
    total_kb = 0
    for pid in servers.process_tree(server.pid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def interleaved(
    wrk: Wrk,
    projects: dict[str, servers.Server],
    ceiling: servers.Server,
    seeded: Seeded,
    *,
    rounds: int,
    seconds: float,
    connections: int = 32,
) -> dict[str, Rounds]:
    """Every project (variants of it, for A/B work) and the ceiling in turn, `rounds`
    times; the order rotates so none always runs right after the same other's load."""
    from bench.phases import measured

    data = {"TOKENS": seeded.tokens}
    targets = [*projects.items(), ("ceiling", ceiling)]
    for _, server in targets:  # warm-up: caches, pools, the allocator
        wrk.run(server.url, "users_me", data, connections=connections, seconds=seconds)
    done: dict[str, list[Round]] = {label: [] for label in projects}
    for number in range(rounds):
        shift = number % len(targets)
        results: dict[str, LoadResult] = {}
        pools: dict[str, pool_stats.PoolReading] = {}
        for label, server in targets[shift:] + targets[:shift]:
            before = pool_stats.read(server.url) if label in projects else None
            result = measured(
                wrk, server, "users_me", data, connections=connections, seconds=seconds
            )
            if result.non_2xx_3xx or result.socket_errors:
                raise RuntimeError(f"{label}: failed requests: {result}")
            results[label] = result
            if before is not None:
                pools[label] = pool_stats.read(server.url) - before
        line = f"  round {number + 1}: ceiling {results['ceiling'].rps:5.0f} req/s"
        line += f" p99 {results['ceiling'].p99_ms:6.1f} ms"
        for label, server in projects.items():
            r = Round(results[label], results["ceiling"], rss_mb(server), pools[label])
            done[label].append(r)
            line += (
                f" | {label} {r.project.rps:5.0f} req/s p99 {r.project.p99_ms:6.1f} ms: "
                f"ratio {r.rps_ratio:.2f}, CPU {r.cpu_ratio:.2f}, p99 x{r.p99_ratio:.1f}, "
                f"RSS {r.project_rss_mb:.1f} MB, pool: {pools[label].describe()}"
            )
        print(line, flush=True)
    return {label: Rounds(connections, rounds_of) for label, rounds_of in done.items()}


def summary(label: str, result: Rounds) -> str:
    r = result.rounds
    return (
        f"{label}: req/s ratio {result.rps_ratio:.2f} ({spread([x.rps_ratio for x in r])}); "
        f"CPU ratio {result.cpu_ratio:.2f} ({spread([x.cpu_ratio for x in r])}); "
        f"p99 ratio {result.p99_ratio:.2f} ({spread([x.p99_ratio for x in r])}); "
        f"RSS growth {result.rss_growth_mb:+.1f} MB; "
        f"pool hold ms ({spread([x.pool.mean_hold_ms for x in r if x.pool])}), "
        f"wait ms ({spread([x.pool.mean_wait_ms for x in r if x.pool])}), "
        f"waits > 0.1 s ({spread([x.pool.long_wait_share for x in r if x.pool])})"
    )


def spread(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    from app.core.settings import Settings
    from bench import database
    from bench.__main__ import server_env
    from bench.wrk import ensure_installed

    parser = argparse.ArgumentParser(prog="python -m bench.rounds", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="DIR",
        help="also serve the app from another checkout (A/B); repeatable",
    )
    args = parser.parse_args()
    wrk = Wrk(ensure_installed())
    with ExitStack() as stack:
        server_url, _ = stack.enter_context(database.postgres_server())
        url = stack.enter_context(database.bench_database(server_url))
        env = server_env(url)
        values: dict[str, Any] = {key.lower(): value for key, value in env.items()}
        settings = Settings(_env_file=None, **values)
        seeded = asyncio.run(database.seed_users(url, settings, 50))

        def project(port: int | str) -> list[str]:
            return servers.project_command(port, 1)

        def ceiling_command(port: int | str) -> list[str]:
            return servers.uvicorn_command("bench.ceiling:create_app", port, 1, env["LOG_LEVEL"])

        projects = {"project": stack.enter_context(servers.running(project, env, name="project"))}
        for number, directory in enumerate(args.variant, start=1):
            variant_env = {**env, "PYTHONPATH": str(Path(directory).resolve())}
            projects[f"variant{number}"] = stack.enter_context(
                servers.running(project, variant_env, name=f"variant{number}")
            )
        ceiling = stack.enter_context(servers.running(ceiling_command, env, name="ceiling"))
        results = interleaved(
            wrk,
            projects,
            ceiling,
            seeded,
            rounds=args.rounds,
            seconds=args.seconds,
            connections=args.connections,
        )
    for label, result in results.items():
        print(summary(label, result))


if __name__ == "__main__":
    main()

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import servers
from bench.database import Seeded
from bench.wrk import LoadResult, Wrk


@dataclass(frozen=True)
class Round:
    project: LoadResult
    ceiling: LoadResult
    project_rss_mb: float

    @property
    def rps_ratio(self) -> float:
        return self.project.rps / self.ceiling.rps if self.ceiling.rps else 0.0

    @property
    def p99_ratio(self) -> float:
        return self.project.p99_ms / self.ceiling.p99_ms if self.ceiling.p99_ms else 0.0


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
    project: servers.Server,
    ceiling: servers.Server,
    seeded: Seeded,
    *,
    rounds: int,
    seconds: float,
    connections: int = 32,
) -> Rounds:
    """Project then ceiling, `rounds` times; the order alternates so neither always runs
    right after the other's load."""
    from bench.phases import measured

    data = {"TOKENS": seeded.tokens}
    for server in (project, ceiling):  # warm-up: caches, pools, the allocator
        wrk.run(server.url, "users_me", data, connections=connections, seconds=seconds)
    done: list[Round] = []
    for number in range(rounds):
        results: dict[str, LoadResult] = {}
        order = [("project", project), ("ceiling", ceiling)]
        for label, server in order if number % 2 == 0 else order[::-1]:
            result = measured(
                wrk, server, "users_me", data, connections=connections, seconds=seconds
            )
            if result.non_2xx_3xx or result.socket_errors:
                raise RuntimeError(f"{label}: failed requests: {result}")
            results[label] = result
        done.append(Round(results["project"], results["ceiling"], rss_mb(project)))
        r = done[-1]
        print(
            f"  round {number + 1}: project {r.project.rps:6.0f} req/s p99 "
            f"{r.project.p99_ms:6.1f} ms | ceiling {r.ceiling.rps:6.0f} req/s p99 "
            f"{r.ceiling.p99_ms:6.1f} ms | ratio {r.rps_ratio:.2f}, p99 x{r.p99_ratio:.1f} "
            f"| RSS {r.project_rss_mb:.1f} MB",
            flush=True,
        )
    return Rounds(connections, done)


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
    args = parser.parse_args()
    wrk = Wrk(ensure_installed())
    with (
        database.postgres_server() as (server_url, _),
        database.bench_database(server_url) as url,
    ):
        env = server_env(url)
        values: dict[str, Any] = {key.lower(): value for key, value in env.items()}
        settings = Settings(_env_file=None, **values)
        seeded = asyncio.run(database.seed_users(url, settings, 50))
        with (
            servers.running(
                lambda port: servers.project_command(port, 1), env, name="project"
            ) as project,
            servers.running(
                lambda port: servers.uvicorn_command(
                    "bench.ceiling:create_app", port, 1, env["LOG_LEVEL"]
                ),
                env,
                name="ceiling",
            ) as ceiling,
        ):
            result = interleaved(
                wrk,
                project,
                ceiling,
                seeded,
                rounds=args.rounds,
                seconds=args.seconds,
                connections=args.connections,
            )
    print(
        f"rps ratio median {result.rps_ratio:.2f} ({spread([r.rps_ratio for r in result.rounds])})"
        f"; p99 ratio median {result.p99_ratio:.2f} "
        f"({spread([r.p99_ratio for r in result.rounds])}); "
        f"RSS growth {result.rss_growth_mb:+.1f} MB"
    )


if __name__ == "__main__":
    main()

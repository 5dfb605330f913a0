"""Scale-out figures for docs/scaling.md, measured interleaved on one machine:

- GET /api/v1/users/me requests/s with no replica and with one streaming replica;
- the share of replica-safe reads a replica serves in a mixed login + /users/me workload
  (fresh sessions read from the primary until the replica has replayed their login);
- /users/me requests/s through PgBouncer (transaction mode) against direct.

Starts its own primary, replica (pg_basebackup) and PgBouncer, serves the app with one
uvicorn worker per run and drives it with wrk. Cases run in turn, round after round, so a
noisy neighbour hits them alike; compare the ratios, not the absolute numbers.

    .venv/bin/python -m bench.scaleout [--seconds 10] [--rounds 2] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.db.local import LocalCluster, free_port
from bench.database import primary_and_replica
from bench.wrk import LoadResult, Wrk, ensure_installed
from tests.support.metrics import Samples
from tests.support.pgbouncer import pgbouncer

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "bench"
PASSWORD = "correct horse battery"  # noqa: S105 (a bench user's)
EMAILS = [f"bench{n}@example.com" for n in range(20)]
LOGIN_EVERY = 10  # one login per ten requests in the mixed workload
SESSIONS = 40  # sessions each wrk thread reads with, the newest replacing the oldest
ROUTES = ("replica", "fallback_position", "fallback_lag")


@contextmanager
def served(primary_url: str, replica_urls: str = "", **env: str) -> Iterator[str]:
    port = free_port()
    environment = os.environ | {
        "APP_ENV": "test",
        "DATABASE_URL": primary_url,
        "DATABASE_REPLICA_URLS": replica_urls,
        "JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
        "LOGIN_MAX_FAILURES": "1000000",
        "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
        "REGISTER_MAX_PER_ADDRESS": "1000000",  # every bench user signs up from 127.0.0.1
        # A loaded machine makes many reads "slow": their log lines would cost more CPU.
        "DB_SLOW_QUERY_MS": "0",
        "DB_CONNECTION_HOLD_WARN_SECONDS": "0",
        **env,
    }
    argv = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    argv += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(argv, env=environment, cwd=ROOT)  # noqa: S603
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base_url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        process.wait()


def seed(base_url: str) -> list[str]:
    """Registers the bench users (once per database) and logs each in: their tokens."""
    tokens = []
    with httpx.Client(base_url=base_url) as http:
        for email in EMAILS:
            registered = http.post("/api/v1/users", json={"email": email, "password": PASSWORD})
            if registered.status_code != 409:  # 409: seeded by an earlier case
                registered.raise_for_status()
            response = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            response.raise_for_status()
            tokens.append(response.json()["access_token"])
    return tokens


def replica_reads(base_url: str) -> dict[str, float]:
    samples = Samples(httpx.get(f"{base_url}/metrics").text)
    return {route: samples.value("db_replica_reads_total", route=route) for route in ROUTES}


@dataclass
class Case:
    name: str
    run: Callable[[], tuple[LoadResult, float | None]]  # the load, and the replica's share
    rps: list[float]
    shares: list[float]


def main(seconds: int, rounds: int, connections: int) -> None:
    wrk = Wrk(ensure_installed())
    with primary_and_replica(DATABASE, prefix="auth-service-bench-scaleout-") as (primary, replica):
        databases = {DATABASE: primary.url(DATABASE)}
        with pgbouncer(databases, pool_size=10) as bouncer:
            run_all(wrk, primary, replica, bouncer.url(DATABASE), seconds, rounds, connections)


def run_all(
    wrk: Wrk,
    primary: LocalCluster,
    replica: LocalCluster,
    bounced_url: str,
    seconds: int,
    rounds: int,
    connections: int,
) -> None:
    direct, replica_url = primary.url(DATABASE), replica.url(DATABASE)

    def me(
        primary_url: str, replicas: str = "", **env: str
    ) -> Callable[[], tuple[LoadResult, float | None]]:
        def run() -> tuple[LoadResult, float | None]:
            with served(primary_url, replicas, **env) as base_url:
                tokens = seed(base_url)
                time.sleep(1.5)  # the logins reach the replica and a check notes it
                return wrk.run(
                    base_url,
                    "users_me",
                    {"TOKENS": tokens},
                    connections=connections,
                    seconds=seconds,
                ), None

        return run

    def mixed() -> tuple[LoadResult, float | None]:
        with served(direct, replica_url) as base_url:
            tokens = seed(base_url)
            time.sleep(1.5)
            before = replica_reads(base_url)
            data = {
                "TOKENS": tokens,
                "SESSIONS": SESSIONS,
                "EMAILS": EMAILS,
                "PASSWORD": PASSWORD,
                "LOGIN_EVERY": LOGIN_EVERY,
            }
            result = wrk.run(base_url, "login_me", data, connections=connections, seconds=seconds)
            after = replica_reads(base_url)
        moved = {route: after[route] - before[route] for route in ROUTES}
        return result, moved["replica"] / max(1.0, sum(moved.values()))

    cases = [
        Case("me, no replica", me(direct), [], []),
        Case("me, one replica", me(direct, replica_url), [], []),
        Case("me, via PgBouncer", me(bounced_url, DATABASE_POOLER="pgbouncer"), [], []),
        Case("login+me, one replica", mixed, [], []),
    ]
    print(f"1 uvicorn worker, wrk -c{connections} for {seconds}s per run, {rounds} rounds")
    print(f"machine: {os.cpu_count()} cores, shared; primary, replica, PgBouncer, app, wrk on it")
    for round_number in range(1, rounds + 1):
        for case in cases:
            result, share = case.run()
            case.rps.append(result.rps)
            if share is not None:
                case.shares.append(share)
            print(
                f"round {round_number}  {case.name:<22} {result.rps:8.0f} req/s  "
                f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:7.1f} ms  "
                f"non-2xx {result.non_2xx_3xx}"
                + (f"  replica share {share:.0%}" if share is not None else ""),
                flush=True,
            )
    base = cases[0]
    print()
    for case in cases:
        ratios = [rps / base_rps for rps, base_rps in zip(case.rps, base.rps, strict=True)]
        print(
            f"{case.name:<22} median {statistics.median(case.rps):8.0f} req/s  "
            f"vs 'me, no replica' per round: {', '.join(f'{r:.2f}' for r in ratios)}"
            + (
                f"  replica share: {', '.join(f'{s:.0%}' for s in case.shares)}"
                if case.shares
                else ""
            )
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    started = time.monotonic()
    main(args.seconds, args.rounds, args.connections)
    print(f"({time.monotonic() - started:.0f}s in all)")

"""Reads per second for GET /api/v1/users/me with no replica and with one streaming replica.

Starts its own primary and replica (pg_basebackup) from the server binaries, serves the app
with uvicorn (one worker) and drives it with wrk. Prints requests/s, latency, and how many
transactions each server ran, which shows where the reads went.

    .venv/bin/python -m bench.replica_reads [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from app.db.local import LocalCluster, free_port
from bench.database import primary_and_replica

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "bench"
EMAIL, PASSWORD = "bench@example.com", "correct horse battery"


def serve(port: int, primary_url: str, replica_urls: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "APP_ENV": "test",
        "DATABASE_URL": primary_url,
        "DATABASE_REPLICA_URLS": replica_urls,
        "JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    argv += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(argv, env=env, cwd=ROOT)  # noqa: S603


async def token_for(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(200):  # wait for start-up
            try:
                await http.get("/health")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        await http.post("/api/v1/users", json={"email": EMAIL, "password": PASSWORD})
        response = await http.post(
            "/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


async def transactions(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1", DATABASE
        )
        return count
    finally:
        await connection.close()


def wrk(base_url: str, token: str, seconds: int, connections: int) -> dict[str, str]:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    argv += ["-H", f"Authorization: Bearer {token}", f"{base_url}/api/v1/users/me"]
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout  # noqa: S603
    found = {
        "requests/s": re.search(r"Requests/sec:\s+([\d.]+)", output),
        "p50": re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE),
        "p99": re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE),
        "non-2xx": re.search(r"Non-2xx or 3xx responses: (\d+)", output),
    }
    return {key: (match.group(1) if match else "0") for key, match in found.items()}


async def run(
    label: str, primary: LocalCluster, replicas: str, seconds: int, connections: int
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = serve(port, primary.url(DATABASE), replicas)
    try:
        token = await token_for(base_url)
        await asyncio.sleep(1.5)  # the login's write reaches the replica, checks mark it up
        replica_url = replicas.split(",")[0] if replicas else None
        before = (
            await transactions(primary.url()),
            replica_url and await transactions(replica_url),
        )
        result = await asyncio.to_thread(wrk, base_url, token, seconds, connections)
        after = (await transactions(primary.url()), replica_url and await transactions(replica_url))
    finally:
        server.terminate()
        server.wait()
    on_primary = after[0] - before[0]
    on_replica = (after[1] or 0) - (before[1] or 0)
    print(
        f"{label:<14} {result['requests/s']:>10} req/s   p50 {result['p50']:>8}   "
        f"p99 {result['p99']:>8}   non-2xx {result['non-2xx']:>4}   "
        f"transactions seen: primary {on_primary:>7}, replica {on_replica:>7}"
    )


def main(seconds: int, connections: int) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    with primary_and_replica(DATABASE, prefix="auth-service-bench-") as (primary, replica):
        print(f"GET /api/v1/users/me, 1 uvicorn worker, wrk -c{connections} for {seconds}s")
        print(f"machine: {os.cpu_count()} cores, primary and replica on this same machine")
        asyncio.run(run("no replica", primary, "", seconds, connections))
        asyncio.run(run("one replica", primary, replica.url(DATABASE), seconds, connections))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    started = time.monotonic()
    main(args.seconds, args.connections)
    print(f"({time.monotonic() - started:.0f}s in all)")

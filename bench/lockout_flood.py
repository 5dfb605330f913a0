"""A flood of logins from locked addresses while a legitimate client logs in.

Locked attempts answer 429 without any bcrypt work, so the flood costs the server a few
queries each and leaves the hashing threads to real logins. This measures the legitimate
client's login latency with the flood running against the same server idle, interleaved
(idle, flood, idle, flood, ...) so that the shared machine's noise hits both alike, and
prints a Markdown section for docs/benchmarks.md.

    python -m bench.lockout_flood [--rounds 12] [--per-round 4] [--flooders 32]

One real server process (`auth-service serve`, production mode, BCRYPT_ROUNDS=12 unless
set); addresses come from X-Forwarded-For, which uvicorn trusts from 127.0.0.1 only. The
flood and the legitimate client both run in this process: on 2 cores they compete with the
server for CPU, so the ratio, not the absolute numbers, is the result.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from app.core.settings import Settings
from bench import database, machine, servers

LOGIN = "/api/v1/auth/login"
PASSWORD = "correct horse battery staple"  # noqa: S105 (a throwaway benchmark account)
OWNER = "198.51.100.1"
LOCKED_ADDRESSES = [f"10.66.{n // 250}.{n % 250 + 1}" for n in range(40)]
ADDRESS_LIMIT = 3  # LOGIN_MAX_FAILURES_PER_ADDRESS for the run: quick to lock an address


@dataclass
class Samples:
    idle: list[float] = field(default_factory=list)
    flood: list[float] = field(default_factory=list)
    flood_answers: Counter[int] = field(default_factory=Counter)
    flood_seconds: float = 0.0


def as_client(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def timed_login(http: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    response = await http.post(
        LOGIN, json={"email": "owner@example.com", "password": PASSWORD}, headers=as_client(OWNER)
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return elapsed


async def prepare(http: httpx.AsyncClient) -> None:
    """The owner's account, one login that makes its address known, and every flood
    address locked (ADDRESS_LIMIT failures each)."""
    created = await http.post(
        "/api/v1/users", json={"email": "owner@example.com", "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    await timed_login(http)

    async def lock(address: str) -> None:
        for n in range(ADDRESS_LIMIT):
            body = {"email": f"guess{n}.{address}@example.com", "password": "not it at all"}
            response = await http.post(LOGIN, json=body, headers=as_client(address))
            assert response.status_code == 401, response.text

    await asyncio.gather(*(lock(address) for address in LOCKED_ADDRESSES))


async def flood(http: httpx.AsyncClient, stop: asyncio.Event, samples: Samples, n: int) -> None:
    address = LOCKED_ADDRESSES[n % len(LOCKED_ADDRESSES)]
    body = {"email": "owner@example.com", "password": PASSWORD}  # the right one, even
    while not stop.is_set():
        try:
            response = await http.post(LOGIN, json=body, headers=as_client(address))
        except httpx.TransportError:  # a keep-alive connection the server closed: go on
            samples.flood_answers[0] += 1
            continue
        samples.flood_answers[response.status_code] += 1


async def measure(base_url: str, *, rounds: int, per_round: int, flooders: int) -> Samples:
    samples = Samples()
    limits = httpx.Limits(max_connections=flooders + 4)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        await prepare(http)
        for _ in range(rounds):
            samples.idle += [await timed_login(http) for _ in range(per_round)]
            stop = asyncio.Event()
            tasks = [asyncio.create_task(flood(http, stop, samples, n)) for n in range(flooders)]
            await asyncio.sleep(0.5)  # the flood is at full strength before we measure
            started = time.perf_counter()
            samples.flood += [await timed_login(http) for _ in range(per_round)]
            samples.flood_seconds += time.perf_counter() - started
            stop.set()
            await asyncio.gather(*tasks)
    return samples


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def render(
    samples: Samples,
    *,
    rounds: int,
    per_round: int,
    flooders: int,
    rounds_bcrypt: int,
    load: str,
    command: str,
) -> str:
    idle, under = statistics.median(samples.idle), statistics.median(samples.flood)
    idle_p90, under_p90 = percentile(samples.idle, 0.9), percentile(samples.flood, 0.9)
    total = sum(samples.flood_answers.values())
    answers = ", ".join(
        f"{status}: {count}" for status, count in sorted(samples.flood_answers.items())
    )
    return "\n".join(
        [
            "## Lockout flood: a known client's login while locked addresses hammer the server",
            "",
            f"Command: `{command}`. {rounds} interleaved rounds of {per_round} legitimate logins "
            f"idle, then {per_round} while {flooders} concurrent clients from "
            f"{len(LOCKED_ADDRESSES)} locked addresses send the right password for the same "
            f"account. One server process, BCRYPT_ROUNDS={rounds_bcrypt}. Load average "
            f"{load}: a shared 2-core machine, with the flood's own client on the same cores; "
            "read the ratio.",
            "",
            "| legitimate login | median ms | p90 ms |",
            "|---|---|---|",
            f"| idle server | {idle * 1000:.1f} | {idle_p90 * 1000:.1f} |",
            f"| during the flood | {under * 1000:.1f} | {under_p90 * 1000:.1f} |",
            "",
            f"Ratio of medians, flood / idle: **{under / idle:.2f}**. Flood answers: {answers} "
            f"({total / samples.flood_seconds:.0f} per second while measured); no bcrypt work "
            "behind any of them.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--per-round", type=int, default=4)
    parser.add_argument("--flooders", type=int, default=32)
    args = parser.parse_args()
    bcrypt_rounds = Settings(_env_file=None).bcrypt_rounds
    load_before = machine.load_average()
    with database.postgres_server() as (server_url, _), database.bench_database(server_url) as url:
        env = {
            "APP_ENV": "production",
            "DATABASE_URL": url,
            "JWT_SECRET": secrets.token_urlsafe(48),
            "BCRYPT_ROUNDS": str(bcrypt_rounds),
            "LOGIN_MAX_FAILURES_PER_ADDRESS": str(ADDRESS_LIMIT),
            "LOG_LEVEL": "warning",
        }
        with servers.running(
            lambda port: servers.project_command(port, 1), env, name="flood"
        ) as server:
            samples = asyncio.run(
                measure(
                    server.url, rounds=args.rounds, per_round=args.per_round, flooders=args.flooders
                )
            )
    load = f"{load_before} before, {machine.load_average()} after"
    command = (
        f"python -m bench.lockout_flood --rounds {args.rounds} --per-round {args.per_round} "
        f"--flooders {args.flooders}"
    )
    print(
        render(
            samples,
            rounds=args.rounds,
            per_round=args.per_round,
            flooders=args.flooders,
            rounds_bcrypt=bcrypt_rounds,
            load=load,
            command=command,
        )
    )


if __name__ == "__main__":
    main()

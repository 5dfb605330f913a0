"""Password-reset request answer times: a known account against an unknown email.

They must cost the same, or timing tells an attacker which accounts exist. The known path
stores a token and queues a mail; the unknown one does neither. Prints both medians and
their ratio (DESIGN.md: within 0.8-1.25).

    python -m bench.reset_timing [--repeats 60]

Uses TEST_DATABASE_URL's server if set, else a throwaway local cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx

PASSWORD = "correct horse battery"  # noqa: S105 (a throwaway benchmark account)
KINDS = ("known account", "unknown email")
RESET = "/api/v1/auth/password-reset"
# Throttles high enough that every known request does the full work (token and mail).
UNTHROTTLED = {"password_reset_max_per_hour": 100_000, "password_reset_max_per_address": 100_000}


async def measure(http: httpx.AsyncClient, *, repeats: int) -> dict[str, list[float]]:
    """Seconds per answer of each kind, interleaved so machine noise hits both alike.

    `http` talks to an app with an empty database and the UNTHROTTLED settings.
    """
    response = await http.post(
        "/api/v1/users", json={"email": "known@example.com", "password": PASSWORD}
    )
    assert response.status_code == 201, response.text

    def email(kind: str, n: int) -> str:
        return "known@example.com" if kind == "known account" else f"nobody{n}@example.com"

    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for n in range(repeats + 3):  # the first rounds warm caches up and are not kept
        for kind in KINDS if n % 2 else reversed(KINDS):
            started = time.perf_counter()
            response = await http.post(RESET, json={"email": email(kind, n)})
            elapsed = time.perf_counter() - started
            assert response.status_code == 202, response.text
            if n >= 3:
                times[kind].append(elapsed)
    return times


def ratio(times: dict[str, list[float]]) -> float:
    """Median of the known account's answers over the unknown email's."""
    return statistics.median(times["known account"]) / statistics.median(times["unknown email"])


async def _main(repeats: int) -> None:
    from app.db.local import create_database
    from tests.support.database import migrate, postgres_server, unique_name, with_database
    from tests.support.http import client_for, live_app

    with postgres_server() as server:
        name = unique_name("bench_reset")
        await create_database(server, name)
        url = with_database(server, name)
        await migrate(url)
        async with live_app(url, **UNTHROTTLED) as app, client_for(app) as http:
            times = await measure(http, repeats=repeats)
    print(f"{repeats} interleaved repeats per kind")
    for kind in KINDS:
        print(f"{kind:>14}: median {statistics.median(times[kind]) * 1000:7.2f} ms")
    print(f"ratio known/unknown: {ratio(times):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    asyncio.run(_main(args.repeats))


if __name__ == "__main__":
    main()

"""`python -m bench.token_modes [--rounds N] [--seconds S] [-c N]`: GET /api/v1/users/me
on two servers side by side, one signing with HS256 and one with ES256, same database and
users, taking turns each round.

Every request sends one of the seeded tokens again, as clients do, so after its first use
each token is answered from the verified-token cache: this shows what ES256 costs a
server in steady state. Ratios within one run are what to read; absolute numbers on a
shared 2-core machine are not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from jose import jwt

from app.core.keys import generate_private_key
from app.core.settings import Settings
from app.core.tokens import TokenCodec
from bench import database, phases, servers
from bench.__main__ import server_env
from bench.wrk import LoadResult, Wrk, ensure_installed


def settings_of(env: dict[str, str]) -> Settings:
    values: dict[str, Any] = {key.lower(): value for key, value in env.items()}
    return Settings(_env_file=None, **values)


def reissued(tokens: list[str], settings: Settings) -> list[str]:
    """The same users' tokens, signed as the server under `settings` verifies them."""
    codec = TokenCodec.from_settings(settings)
    return [codec.issue(jwt.get_unverified_claims(token)["sub"]).token for token in tokens]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.token_modes", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=200)
    args = parser.parse_args()
    wrk = Wrk(ensure_installed())
    with (
        tempfile.TemporaryDirectory() as directory,
        database.postgres_server() as (server_url, _),
        database.bench_database(server_url) as url,
    ):
        key_file = Path(directory) / "es256.pem"
        key_file.write_bytes(generate_private_key("ES256")[0])
        os.chmod(key_file, 0o600)
        hs_env = server_env(url)
        es_env = {**hs_env, "JWT_ALGORITHM": "ES256", "JWT_SIGNING_KEY_FILE": str(key_file)}
        seeded = asyncio.run(database.seed_users(url, settings_of(hs_env), args.users))
        data = {
            "HS256": {"TOKENS": seeded.tokens},
            "ES256": {"TOKENS": reissued(seeded.tokens, settings_of(es_env))},
        }

        def project(port: int | str) -> list[str]:
            return servers.project_command(port, 1)

        results: dict[str, list[LoadResult]] = {"HS256": [], "ES256": []}
        with (
            servers.running(project, hs_env, name="hs256") as hs_server,
            servers.running(project, es_env, name="es256") as es_server,
        ):
            targets = {"HS256": hs_server, "ES256": es_server}
            for label, server in targets.items():  # warm-up: every token verified once
                wrk.run(
                    server.url, "users_me", data[label], connections=args.connections, seconds=2
                )
            for number in range(args.rounds):
                order = list(targets) if number % 2 == 0 else list(reversed(targets))
                for label in order:
                    result = phases.measured(
                        wrk,
                        targets[label],
                        "users_me",
                        data[label],
                        connections=args.connections,
                        seconds=args.seconds,
                    )
                    if result.non_2xx_3xx or result.socket_errors:
                        raise RuntimeError(f"{label}: failed requests: {result}")
                    results[label].append(result)
                    print(f"  round {number + 1} {label}: {_line(result)}", flush=True)
    print(report(results, args.connections))


def _line(result: LoadResult) -> str:
    return (
        f"{result.rps:7.0f} req/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  "
        f"{result.cpu_us_per_request:5.0f} us CPU/req"
    )


def report(results: dict[str, list[LoadResult]], connections: int) -> str:
    rps = {label: statistics.median(r.rps for r in runs) for label, runs in results.items()}
    cpu = {
        label: statistics.median(r.cpu_us_per_request for r in runs)
        for label, runs in results.items()
    }
    ratios = [es.rps / hs.rps for hs, es in zip(results["HS256"], results["ES256"], strict=True)]
    return "\n".join(
        [
            f"GET /api/v1/users/me, wrk -c{connections}, 1 worker, medians of "
            f"{len(ratios)} interleaved rounds",
            f"  HS256: {rps['HS256']:7.0f} req/s  {cpu['HS256']:5.0f} us CPU/req",
            f"  ES256: {rps['ES256']:7.0f} req/s  {cpu['ES256']:5.0f} us CPU/req",
            f"  ES256/HS256 req/s per round: {', '.join(f'{r:.2f}' for r in ratios)} "
            f"(median {statistics.median(ratios):.2f}); CPU/req ratio "
            f"{cpu['ES256'] / cpu['HS256']:.2f}",
        ]
    )


if __name__ == "__main__":
    main()

"""Login answer times by kind: unknown email, wrong password, locked account.

Unknown email and wrong password must cost the same, or timing tells an attacker which
accounts exist. A locked account answers 429 without any bcrypt work (its status already
differs from a 401), so its ratio is far below 1. Prints the medians and their exact
ratios to the wrong-password median.

    python -m bench.login_timing [--rounds 10] [--repeats 15]

Uses TEST_DATABASE_URL's server if set, else a throwaway local cluster.
"""

from __future__ import annotations

import argparse
import asyncio

from app.db.local import create_database
from tests.support.database import migrate, postgres_server, unique_name, with_database
from tests.support.http import client_for, live_app
from tests.support.login_timing import KINDS, measure, medians


async def _main(rounds: int, repeats: int) -> None:
    with postgres_server() as server:
        name = unique_name("bench_login")
        await create_database(server, name)
        url = with_database(server, name)
        await migrate(url)
        async with (
            live_app(url, bcrypt_rounds=rounds, login_max_failures=5) as app,
            client_for(app) as http,
        ):
            result = medians(await measure(http, repeats=repeats, max_failures=5))
    base = result["wrong password"]
    print(f"bcrypt rounds {rounds}, {repeats} interleaved repeats per kind")
    for kind in KINDS:
        print(f"{kind:>15}: median {result[kind] * 1000:8.2f} ms  ratio {result[kind] / base:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(_main(args.rounds, args.repeats))


if __name__ == "__main__":
    main()

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

from tests.support.reset_timing import KINDS, UNTHROTTLED, measure, ratio


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

"""Races end one way: the machinery of the race tests (tests/api/test_session_races.py,
tests/api/test_admin_races.py; their server and client are the `served` and `http` fixtures
of tests/api/conftest.py, on SERVED). Racing clients speak HTTP only, so a test runs unchanged
against older code; each trial starts the racers with a random offset, and the failures of
all trials are collected, then asserted, so a failure shows how many trials broke and how."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.http import register
from tests.support.sessions import Pair, me, refresh

TRIALS = 25
MAX_REFRESHES = 100  # a loop still refreshing after this many outlived its revocation
# Lockouts out of the way: old-password logins after a change are failures by design.
SERVED: dict[str, Any] = {
    "log_level": "WARNING",  # an access line per request would be most of the suite's time
    "db_pool_max_size": 8,
    "login_max_failures": 1_000_000,
    "login_max_failures_per_address": 1_000_000,
}


async def jitter(seconds: float = 0.02) -> None:
    await asyncio.sleep(random.uniform(0, seconds))


@dataclass
class Survivors:
    """What outlived a revocation in one trial (all zero when the trial held)."""

    counts: Counter[str] = field(default_factory=Counter)

    async def check_dead(self, http: httpx.AsyncClient, pair: Pair) -> None:
        """A pair of a revoked session must neither refresh nor authenticate."""
        if (await refresh(http, pair)).status_code == 200:
            self.counts["refresh token still refreshes"] += 1
        if await me(http, pair) == 200:
            self.counts["access token still works"] += 1


def assert_every_trial_held(broken: Counter[str], failed_trials: int) -> None:
    print(f"trials failed: {failed_trials} of {TRIALS}; {dict(broken)}")  # for the report
    assert failed_trials == 0, f"{failed_trials} of {TRIALS} trials broke: {dict(broken)}"


@dataclass
class RefreshLoop:
    """A client rotating its pair as fast as it can, until a refresh fails."""

    latest: Pair
    refreshed: asyncio.Event = field(default_factory=asyncio.Event)
    after_revocation: int = 0  # refreshes that began after the revocation answered, and worked
    stopped: bool = False

    async def run(self, http: httpx.AsyncClient, revoked: asyncio.Event) -> None:
        for _ in range(MAX_REFRESHES):
            began_after = revoked.is_set()
            response = await refresh(http, self.latest)
            if response.status_code != 200:
                self.stopped = True
                return
            self.latest = response.json()
            self.refreshed.set()
            if began_after:
                self.after_revocation += 1


async def race_refresh_loop(
    http: httpx.AsyncClient, start: Pair, revoke: Any, *, wait_for_first_refresh: bool = False
) -> Counter[str]:
    """Run a refresh loop from `start` against `revoke(loop)`; what outlived the revocation."""
    loop = RefreshLoop(latest=start)
    revoked = asyncio.Event()

    async def revoker() -> None:
        if wait_for_first_refresh:
            await loop.refreshed.wait()
        await jitter()
        await revoke(loop)
        revoked.set()

    await asyncio.gather(loop.run(http, revoked), revoker())
    survivors = Survivors()
    if not loop.stopped:
        survivors.counts["refresh loop never stopped"] += 1
    if loop.after_revocation:
        survivors.counts["refreshes after the revocation answered"] += 1
    await survivors.check_dead(http, loop.latest)
    return survivors.counts


async def run_trials(http: httpx.AsyncClient, trial: Any) -> None:
    broken: Counter[str] = Counter()
    failed = 0
    for number in range(TRIALS):
        email = f"racer{number}@example.com"
        await register(http, email)
        counts: Counter[str] = await trial(email)
        broken.update(counts)
        failed += bool(counts)
    assert_every_trial_held(broken, failed)

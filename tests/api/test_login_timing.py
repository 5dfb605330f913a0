"""The locked answer and the unknown-email answer cost what a wrong password costs.

A timed test, as the issue asks: medians over interleaved repeats at realistic bcrypt rounds,
with a band wide enough for a noisy shared 2-core machine. Skipping the dummy verify would
make a locked or unknown answer about 30 times faster than a wrong password at these rounds,
far outside the band. bench/login_timing.py prints the exact ratios.
"""

from __future__ import annotations

import pytest

from tests.support.http import client_for, live_app
from tests.support.login_timing import measure, medians

pytestmark = pytest.mark.timing

ROUNDS = 10  # about 76 ms a verify here: realistic cost, short test
REPEATS = 9
MAX_FAILURES = 3
BAND = 1.5  # slowest median over fastest


async def test_unknown_wrong_and_locked_answers_take_the_same_time(own_database: str) -> None:
    async with (
        live_app(own_database, bcrypt_rounds=ROUNDS, login_max_failures=MAX_FAILURES) as app,
        client_for(app) as http,
    ):
        result = medians(await measure(http, repeats=REPEATS, max_failures=MAX_FAILURES))
    assert max(result.values()) / min(result.values()) < BAND, result

"""A reset request for a known account answers in the time one for an unknown email does.

A timed test, as the issue asks: the median of interleaved pairs, in the band DESIGN.md
fixes (0.8-1.25). bench/reset_timing.py prints the exact figures.
"""

from __future__ import annotations

import pytest

from tests.support.http import client_for, live_app
from tests.support.reset_timing import UNTHROTTLED, measure, ratio

pytestmark = pytest.mark.timing

REPEATS = 40


async def test_known_and_unknown_reset_requests_take_the_same_time(own_database: str) -> None:
    async with live_app(own_database, **UNTHROTTLED) as app, client_for(app) as http:
        times = await measure(http, repeats=REPEATS)
    assert 0.8 <= ratio(times) <= 1.25, ratio(times)

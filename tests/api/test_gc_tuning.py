"""The served app freezes its start-up objects and raises the collector's thresholds."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.core.gc_tuning import THRESHOLDS
from tests.support.http import client_for, live_app


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def test_start_up_freezes_and_sets_the_thresholds(
    own_database: str, restored_gc: None
) -> None:
    gc.unfreeze()
    async with live_app(own_database, gc_tuning=True) as app:
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == THRESHOLDS
        async with client_for(app) as client:  # and it still serves
            assert (await client.get("/health")).status_code == 200


async def test_the_suite_leaves_the_collector_alone(own_database: str, restored_gc: None) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    async with live_app(own_database):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == before

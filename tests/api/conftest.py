"""The race tests' server: the real app with its real pool (SERVED) on a database of its own,
and a client on it (test_session_races.py, test_admin_races.py, test_deletion_races.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.support.http import client_for, live_app
from tests.support.races import SERVED


@pytest.fixture
async def served(own_database: str) -> AsyncIterator[FastAPI]:
    async with live_app(own_database, **SERVED) as application:
        yield application


@pytest.fixture
async def http(served: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(served) as client:
        yield client

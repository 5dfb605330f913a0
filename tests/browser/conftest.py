"""Fixtures for the browser tests: one Chromium per module (starting it is seconds of a busy
machine), a fresh offline context in it per test (its own cookies and storage, as a new
profile), and a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Route, async_playwright, expect

from app.main import create_app
from tests.support.browser import (
    ACTION_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    OfflineBrowser,
)
from tests.support.http import serving
from tests.support.settings import make_settings


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Browser]:
    assert CHROMIUM is not None, "call skip_without_chromium() in the test module"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browser(chromium: Browser) -> AsyncIterator[OfflineBrowser]:
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    opened = OfflineBrowser(context)

    async def local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            opened.blocked.append(route.request.url)
            await route.abort("blockedbyclient")

    await context.route("**/*", local_only)
    try:
        yield opened
    finally:
        await context.close()


@pytest.fixture
async def base_url(own_database: str) -> AsyncIterator[str]:
    """A real uvicorn server with the real lifespan and pool, on a database of its own."""
    async with serving(create_app(make_settings(database_url=own_database))) as url:
        yield url


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        yield client

"""Headless Chromium (Debian's `chromium`) driven by Playwright, on a real server.

Playwright uses the system browser through `executable_path`: nothing is downloaded. Every
request the page makes outside 127.0.0.1 is aborted and recorded, so a page that reaches
for a CDN fails its test instead of quietly working online only.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import BrowserContext, Locator, Page, Route, async_playwright, expect

from app.main import create_app
from tests.conftest import make_settings
from tests.database import ROOT
from tests.faults.conftest import serving

CHROMIUM = shutil.which("chromium")  # Debian's package: /usr/bin/chromium
ARTIFACTS = ROOT / ".artifacts" / "browser"
ACTION_TIMEOUT_MS = 15_000  # generous for a busy 2-core machine; a stuck step still ends
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@dataclass
class OfflineBrowser:
    """A fresh browser profile whose pages may only talk to 127.0.0.1."""

    context: BrowserContext
    blocked: list[str] = field(default_factory=list)


async def screenshot(target: Page | Locator, name: str) -> None:
    """Keep what the browser showed, for a person to look at after the run (not in git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await target.screenshot(path=ARTIFACTS / f"{name}.png")


def skip_without_chromium() -> None:
    """Skip the calling test module, in one line that says how to get the browser."""
    if CHROMIUM is None:
        pytest.skip(
            "Chromium not found; to run the browser tests: sudo apt-get install chromium",
            allow_module_level=True,
        )


@pytest.fixture
async def browser() -> AsyncIterator[OfflineBrowser]:
    assert CHROMIUM is not None, "call skip_without_chromium() in the test module"
    async with async_playwright() as playwright:
        with tempfile.TemporaryDirectory(prefix="auth-service-chromium-") as profile:
            # A persistent context is how Playwright takes a --user-data-dir: a fresh one here.
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 900},
            )
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

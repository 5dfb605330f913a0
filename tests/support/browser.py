"""Headless Chromium (Debian's `chromium`) driven by Playwright, on a real server.

Playwright uses the system browser through `executable_path`: nothing is downloaded. Every
request the page makes outside 127.0.0.1 is aborted and recorded, so a page that reaches
for a CDN fails its test instead of quietly working online only.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import pytest
from playwright.async_api import BrowserContext, Locator, Page

from tests.support.database import ROOT

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
    """A fresh browser context whose pages may only talk to 127.0.0.1."""

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

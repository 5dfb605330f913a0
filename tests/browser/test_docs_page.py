"""The docs pages in a real browser, offline: rendered, and the Authorize flow works end to end."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import expect

from app.db.uow import UnitOfWork
from tests.support.admin import grant_admin
from tests.support.browser import OfflineBrowser, screenshot, skip_without_chromium
from tests.support.http import register
from tests.support.settings import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one Chromium

skip_without_chromium()

EMAIL = "grace@example.com"


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for methods in spec["paths"].values() for operation in methods.values()]


async def test_swagger_ui_authorizes_with_the_password_form_and_runs_users_me_and_admin_list(
    browser: OfflineBrowser, base_url: str, http: httpx.AsyncClient, own_database: str
) -> None:
    await register(http, email=EMAIL, full_name="Grace Hopper")
    spec = (await http.get("/openapi.json")).json()
    page = await browser.context.new_page()

    await page.goto(f"{base_url}/docs")
    await expect(page.locator(".opblock")).to_have_count(len(operations(spec)))
    await screenshot(page, "docs")

    await page.locator(".scheme-container").get_by_role("button", name="Authorize").click()
    dialog = page.locator(".modal-ux")
    await dialog.locator("#oauth_username").fill(EMAIL)
    await dialog.locator("#oauth_password").fill(TEST_PASSWORD)
    async with page.expect_response(f"{base_url}/api/v1/auth/token") as token:
        await dialog.get_by_role("button", name="Apply given OAuth2 credentials").click()
    assert (await token.value).status == 200
    await expect(dialog.get_by_role("button", name="Remove authorization")).to_be_visible()
    await screenshot(dialog, "docs-authorized")
    await dialog.get_by_role("button", name="Close").click()

    me = page.locator(".opblock-get", has=page.locator('[data-path="/api/v1/users/me"]'))
    await me.locator(".opblock-summary").click()
    await me.get_by_role("button", name="Try it out").click()
    await me.get_by_role("button", name="Execute").click()
    response = me.locator(".live-responses-table tr.response")
    await expect(response.locator(".response-col_status")).to_have_text("200")
    await expect(response.locator(".response-col_description")).to_contain_text(EMAIL)
    await screenshot(me, "docs-users-me")

    # Made an admin now, the same authorization lists users: the flag is read per request.
    db = await asyncpg.connect(own_database)
    try:
        await grant_admin(UnitOfWork.borrowing(db), EMAIL)
    finally:
        await db.close()
    listing = page.locator(".opblock-get", has=page.locator('[data-path="/api/v1/admin/users"]'))
    await listing.locator(".opblock-summary").click()
    await listing.get_by_role("button", name="Try it out").click()
    await listing.get_by_role("button", name="Execute").click()
    response = listing.locator(".live-responses-table tr.response")
    await expect(response.locator(".response-col_status")).to_have_text("200")
    await expect(response.locator(".response-col_description")).to_contain_text("next_cursor")

    assert browser.blocked == []


async def test_redoc_renders_every_operation(
    browser: OfflineBrowser, base_url: str, http: httpx.AsyncClient
) -> None:
    spec = (await http.get("/openapi.json")).json()
    page = await browser.context.new_page()

    await page.goto(f"{base_url}/redoc")
    content = page.locator(".api-content")
    for operation in operations(spec):
        section = content.locator(f'[data-section-id$="/operation/{operation["operationId"]}"]')
        await expect(section.locator("h2")).to_contain_text(operation["summary"])
    await screenshot(page, "redoc")

    # ReDoc's built-in CDN logo is stopped by the page's Content-Security-Policy, not by us.
    assert browser.blocked == []

"""What the mail path writes to the log: the link in development without SMTP (so `make
run` users can follow it), and no token or link at all in production."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import asyncpg
from asgi_lifespan import LifespanManager

from app.main import create_app
from tests.support.http import client_for, live_app
from tests.support.logs import Captured, captured_logs
from tests.support.settings import TEST_PASSWORD, make_settings
from tests.support.smtp import MailCatcher, token_in

USER = {"email": "ada@example.com", "password": TEST_PASSWORD}


async def _until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_development_without_smtp_logs_each_mail_with_its_link(own_database: str) -> None:
    async with (
        live_app(own_database, app_env="development", log_format="json") as app,
        client_for(app) as http,
    ):
        with captured_logs() as logs:  # after create_app, which installs the handler
            assert (await http.post("/api/v1/users", json=USER)).status_code == 201
            await _until(lambda: bool(_mail_lines(logs)))
    (line,) = _mail_lines(logs)
    assert line["to"] == "ada@example.com"
    assert "http://127.0.0.1:8000/verify-email?token=" in line["text"]


def _mail_lines(logs: Captured) -> list[dict[str, Any]]:
    return [line for line in logs.lines() if str(line.get("event", "")).startswith("mail (dev")]


async def test_production_logs_carry_no_token_or_link(
    own_database: str, mail_catcher: MailCatcher
) -> None:
    mail_catcher.refusal = "451 4.3.0 busy, try later"  # retries log their errors
    overrides = {"app_env": "production", "log_format": "json"}
    async with (
        live_app(own_database, smtp_url=mail_catcher.url, **overrides) as app,
        client_for(app) as http,
    ):
        with captured_logs() as logs:
            assert (await http.post("/api/v1/users", json=USER)).status_code == 201
            reset = await http.post("/api/v1/auth/password-reset", json={"email": USER["email"]})
            assert reset.status_code == 202
            await _until(lambda: "will retry" in logs.text)
            mail_catcher.refusal = None
            await _age(own_database)
            await mail_catcher.wait_for(2)
            tokens = [token_in(mail) for mail in mail_catcher.received()]
            confirm = await http.post(
                "/api/v1/auth/password-reset/confirm",
                json={"token": tokens[-1], "new_password": "a brand new passphrase"},
            )
            assert confirm.status_code in (204, 400)  # either mail may be the reset one
    assert "will retry" in logs.text and "request" in logs.text  # the capture saw the lines
    for token in tokens:
        assert token not in logs.text
    assert "token=" not in logs.text


async def _age(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("UPDATE mail_outbox SET next_attempt_at = clock_timestamp()")
    finally:
        await connection.close()


async def test_production_without_smtp_warns_at_start_up_and_keeps_mails_queued(
    own_database: str,
) -> None:
    app = create_app(
        make_settings(database_url=own_database, app_env="production", log_format="json")
    )
    with captured_logs() as logs:
        async with LifespanManager(app), client_for(app) as http:
            assert (await http.post("/api/v1/users", json=USER)).status_code == 201
    (warning,) = [line for line in logs.lines() if "SMTP_URL is not set" in line["event"]]
    assert warning["level"] == "warning"
    connection = await asyncpg.connect(own_database)
    try:
        row = await connection.fetchrow("SELECT status, attempts, claimed_by FROM mail_outbox")
    finally:
        await connection.close()
    assert row is not None
    assert tuple(row) == ("pending", 0, None)

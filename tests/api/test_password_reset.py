"""Password reset over the API, with mails delivered over real SMTP (aiosmtpd) by the
outbox worker, on the test's savepointed connection."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from app.core.settings import Settings
from tests.support.http import borrowing_app, client_for, login, register
from tests.support.settings import TEST_PASSWORD, make_settings
from tests.support.smtp import MailCatcher, borrowed, text_of, token_in, worker_for

RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
NEW_PASSWORD = "a brand new passphrase"
ACCEPTED = {"status": "accepted"}


@pytest.fixture
def settings() -> Settings:
    return make_settings(password_reset_url="https://app.example.com/reset?lang=en")


async def _deliver(conn: asyncpg.Connection, catcher: MailCatcher) -> int:
    return await worker_for(borrowed(conn), catcher).drain()


async def _request(http: httpx.AsyncClient, email: str) -> httpx.Response:
    response = await http.post(RESET, json={"email": email})
    assert response.status_code == 202, response.text
    assert response.json() == ACCEPTED
    return response


async def _reset_token(
    http: httpx.AsyncClient, conn: asyncpg.Connection, catcher: MailCatcher, email: str
) -> str:
    await _request(http, email)
    await _deliver(conn, catcher)
    mails = [m for m in catcher.to(email) if "Reset" in m["Subject"]]
    assert len(mails) == 1
    return token_in(mails[0])


async def _confirm(
    http: httpx.AsyncClient, token: Any, password: str = NEW_PASSWORD
) -> httpx.Response:
    return await http.post(CONFIRM, json={"token": token, "new_password": password})


async def test_full_flow_mails_a_link_and_the_new_password_logs_in(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    user = await register(client)
    assert user["email_verified"] is False
    token = await _reset_token(client, conn, mail_catcher, "ada@example.com")

    mail = mail_catcher.to("ada@example.com")[-1]
    assert f"https://app.example.com/reset?lang=en&token={token}" in text_of(mail)
    assert mail["From"] == "auth-service <no-reply@example.com>"
    assert mail.get_body(preferencelist=("html",)) is not None

    response = await _confirm(client, token)
    assert response.status_code == 204, response.text
    access = await login(client, password=NEW_PASSWORD)
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {access}"})
    assert me.json()["email_verified"] is True  # the mail reached the address
    old = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": TEST_PASSWORD}
    )
    assert old.status_code == 401


async def test_unknown_email_gets_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    await register(client)
    await _deliver(conn, mail_catcher)  # the registration's verification mail
    before = len(mail_catcher.received())
    known = await _request(client, "ada@example.com")
    unknown = await _request(client, "nobody@example.com")
    malformed = await _request(client, "not an email")
    assert known.content == unknown.content == malformed.content
    assert await _deliver(conn, mail_catcher) == 1
    assert len(mail_catcher.received()) == before + 1
    assert mail_catcher.to("nobody@example.com") == []


async def test_inactive_account_gets_no_mail(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await register(client)
    await conn.execute("UPDATE users SET is_active = false")
    await _request(client, "ada@example.com")
    assert await conn.fetchval("SELECT count(*) FROM one_time_tokens WHERE purpose = 'reset'") == 0


async def test_a_spent_token_is_400(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    await register(client)
    token = await _reset_token(client, conn, mail_catcher, "ada@example.com")
    assert (await _confirm(client, token)).status_code == 204
    again = await _confirm(client, token, "yet another passphrase")
    assert again.status_code == 400
    assert again.json()["error"]["type"] == "InvalidTokenError"
    await login(client, password=NEW_PASSWORD)  # the second confirm changed nothing


async def test_an_expired_token_is_400(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    await register(client)
    token = await _reset_token(client, conn, mail_catcher, "ada@example.com")
    # The clock, moved by SQL: the token's 30 minutes are over.
    await conn.execute(
        "UPDATE one_time_tokens SET expires_at = clock_timestamp() - interval '1 second'"
    )
    response = await _confirm(client, token)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "InvalidTokenError"
    await login(client)  # the old password still works


# JSON text as sent. (A lone surrogate is no string at all for the JSON parser: 422.)
@pytest.mark.parametrize("token", ['""', '"x"', '"not-a-token\\u0000"', '"%s"' % ("A" * 43)])
async def test_unknown_or_malformed_tokens_are_400(client: httpx.AsyncClient, token: str) -> None:
    body = f'{{"token": {token}, "new_password": "{NEW_PASSWORD}"}}'
    response = await client.post(
        CONFIRM, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "InvalidTokenError"


async def test_a_verification_token_does_not_reset_a_password(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    await register(client)
    await _deliver(conn, mail_catcher)
    verification = token_in(mail_catcher.to("ada@example.com")[0])
    assert (await _confirm(client, verification)).status_code == 400


async def test_a_new_password_breaking_the_registration_rules_is_422_and_keeps_the_token(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    """The registration rules, through the same password_problem(): 40 'é' pass the
    schema's character bounds and fail the 72-byte rule; "sunshine" is on the shipped list
    of common passwords."""
    await register(client)
    token = await _reset_token(client, conn, mail_catcher, "ada@example.com")
    for refused in ("é" * 40, "sunshine"):
        response = await _confirm(client, token, refused)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "new_password"
        assert refused not in response.text
    assert (await _confirm(client, token)).status_code == 204  # not spent by the 422


async def test_reset_mails_are_throttled_per_account_silently(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    await register(client)
    for _ in range(5):
        await _request(client, "ada@example.com")  # 202 every time
    await _deliver(conn, mail_catcher)
    resets = [m for m in mail_catcher.to("ada@example.com") if "Reset" in m["Subject"]]
    assert len(resets) == 3  # PASSWORD_RESET_MAX_PER_HOUR


async def test_reset_mails_are_throttled_per_address(conn: asyncpg.Connection) -> None:
    app = borrowing_app(make_settings(password_reset_max_per_address=2), conn)
    async with client_for(app) as http:
        for n in range(4):
            await register(http, f"user{n}@example.com")
        for n in range(4):
            await _request(http, f"user{n}@example.com")  # all from one client address
    count = await conn.fetchval("SELECT count(*) FROM one_time_tokens WHERE purpose = 'reset'")
    assert count == 2


async def test_confirm_spends_the_users_other_reset_tokens(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    await register(client)
    await _request(client, "ada@example.com")
    await _request(client, "ada@example.com")
    await _deliver(conn, mail_catcher)
    first, second = (
        token_in(m) for m in mail_catcher.to("ada@example.com") if "Reset" in m["Subject"]
    )
    assert (await _confirm(client, second)).status_code == 204
    assert (await _confirm(client, first, "yet another passphrase")).status_code == 400

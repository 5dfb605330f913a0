"""Email verification over the API: the registration's mail, confirming it, re-sending,
and REQUIRE_VERIFIED_EMAIL."""

from __future__ import annotations

import asyncpg
import httpx

from tests.support.http import borrowing_app, client_for, register
from tests.support.settings import TEST_PASSWORD, make_settings
from tests.support.smtp import MailCatcher, borrowed, token_in, worker_for

VERIFY = "/api/v1/users/verify-email"
RESEND = "/api/v1/users/me/verify-email"
LOGIN = "/api/v1/auth/login"


async def _verification_mails(conn: asyncpg.Connection, catcher: MailCatcher) -> list[str]:
    await worker_for(borrowed(conn), catcher).drain()
    return [token_in(m) for m in catcher.to("ada@example.com") if "Confirm" in m["Subject"]]


async def _bearer(http: httpx.AsyncClient) -> dict[str, str]:
    response = await http.post(LOGIN, json={"email": "ada@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_registration_mails_a_link_that_verifies_the_address(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    user = await register(client)
    assert user["email_verified"] is False
    (token,) = await _verification_mails(conn, mail_catcher)
    response = await client.post(VERIFY, json={"token": token})
    assert response.status_code == 204, response.text
    me = await client.get("/api/v1/users/me", headers=await _bearer(client))
    assert me.json()["email_verified"] is True
    again = await client.post(VERIFY, json={"token": token})
    assert again.status_code == 400
    assert again.json()["error"]["type"] == "InvalidTokenError"


async def test_the_registration_and_its_mail_commit_together(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await register(client)
    conflict = await client.post(
        "/api/v1/users", json={"email": "ADA@example.com", "password": TEST_PASSWORD}
    )
    assert conflict.status_code == 409
    assert await conn.fetchval("SELECT count(*) FROM mail_outbox") == 1


async def test_an_expired_verification_token_is_400(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    await register(client)
    (token,) = await _verification_mails(conn, mail_catcher)
    await conn.execute(
        "UPDATE one_time_tokens SET expires_at = clock_timestamp() - interval '1 second'"
    )
    assert (await client.post(VERIFY, json={"token": token})).status_code == 400


async def test_resend_queues_a_new_mail_throttled_and_none_once_verified(
    client: httpx.AsyncClient, conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    await register(client)
    headers = await _bearer(client)
    for _ in range(4):
        response = await client.post(RESEND, headers=headers)
        assert response.status_code == 202
        assert response.json() == {"status": "accepted"}
    tokens = await _verification_mails(conn, mail_catcher)
    assert len(tokens) == 3  # the registration's and two more: 3 an hour
    assert (await client.post(VERIFY, json={"token": tokens[-1]})).status_code == 204
    await conn.execute("DELETE FROM one_time_tokens")  # the hour is over
    assert (await client.post(RESEND, headers=headers)).status_code == 202
    assert len(await _verification_mails(conn, mail_catcher)) == 3  # verified: nothing new


async def test_resend_needs_a_login(client: httpx.AsyncClient) -> None:
    assert (await client.post(RESEND)).status_code == 401


async def test_required_verification_makes_an_unverified_login_403(
    conn: asyncpg.Connection, mail_catcher: MailCatcher
) -> None:
    app = borrowing_app(make_settings(require_verified_email=True), conn)
    async with client_for(app) as http:
        await register(http)
        credentials = {"email": "ada@example.com", "password": TEST_PASSWORD}
        refused = await http.post(LOGIN, json=credentials)
        assert refused.status_code == 403
        assert refused.json()["error"]["type"] == "AuthorizationError"
        form = {"username": "ada@example.com", "password": TEST_PASSWORD}
        assert (await http.post("/api/v1/auth/token", data=form)).status_code == 403
        (token,) = await _verification_mails(conn, mail_catcher)
        assert (await http.post(VERIFY, json={"token": token})).status_code == 204
        assert (await http.post(LOGIN, json=credentials)).status_code == 200
        wrong = await http.post(LOGIN, json={**credentials, "password": "not the password"})
        assert wrong.status_code == 401  # a wrong password still says nothing else

        login_doc = (await http.get("/openapi.json")).json()["paths"]["/api/v1/auth/login"]
        assert "REQUIRE_VERIFIED_EMAIL" in login_doc["post"]["responses"]["403"]["description"]


async def test_mails_queued_are_counted_once_committed(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    for name in (
        "mail_queued_total 0.0",
        "mail_sent_total 0.0",
        "mail_retried_total 0.0",
        "mail_dead_total 0.0",
        "mail_outbox_depth",
        "mail_outbox_oldest_due_age_seconds",
        "mail_delivery_latency_seconds_bucket",
    ):
        assert name in before, name
    await register(client)
    conflict = await client.post(
        "/api/v1/users", json={"email": "ada@example.com", "password": TEST_PASSWORD}
    )
    assert conflict.status_code == 409  # rolled back: not counted
    assert "mail_queued_total 1.0" in (await client.get("/metrics")).text

"""`auth-service mail deliver` as an operator runs it, in process, against a real SMTP server."""

from __future__ import annotations

import asyncpg

from tests.support.cli import auth_service, invoke
from tests.support.smtp import MailCatcher


async def test_deliver_once_sends_what_is_due_and_exits(
    own_database: str, mail_catcher: MailCatcher
) -> None:
    connection = await asyncpg.connect(own_database)
    try:
        for n in range(3):
            await connection.execute(
                "INSERT INTO mail_outbox (recipient, subject, body_text, body_html)"
                " VALUES ($1, 'Hello', 'text', '<p>html</p>')",
                f"user{n}@example.com",
            )
        env = {"DATABASE_URL": own_database, "SMTP_URL": mail_catcher.url}
        result = await auth_service("mail", "deliver", "--once", env=env)
        assert result.exit_code == 0, result.stderr
        assert "attempted 3 mail(s)" in result.stdout
        assert len(mail_catcher.received()) == 3
        statuses = await connection.fetch("SELECT status, claimed_by FROM mail_outbox")
        assert {(row["status"], row["claimed_by"]) for row in statuses} == {("sent", None)}
    finally:
        await connection.close()


def test_deliver_without_smtp_url_says_so(own_database: str) -> None:
    result = invoke("mail", "deliver", "--once", env={"DATABASE_URL": own_database})
    assert result.exit_code == 2
    assert result.stderr.strip() == "auth-service: SMTP_URL is not set: nowhere to deliver mail"


def test_deliver_with_a_bad_smtp_url_names_it(own_database: str) -> None:
    env = {"DATABASE_URL": own_database, "SMTP_URL": "http://mail:25"}
    result = invoke("mail", "deliver", "--once", env=env)
    assert result.exit_code == 2
    assert "SMTP_URL must start with smtp:// or smtps://" in result.stderr
    assert "Traceback" not in result.stderr

"""SMTP_URL parsing, links with their token, templates and the Message-ID."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.mail import MailTemplates, OutboxMail, message_id, mime_message
from app.core.one_time_tokens import hash_one_time_token, link_with_token, new_one_time_token
from app.core.smtp import SmtpConfig


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail:1025", SmtpConfig(host="mail", port=1025)),
        ("smtp://mail", SmtpConfig(host="mail", port=25)),
        (
            "smtp://ada%40x:p%3Ass@mail:587?starttls=true",
            SmtpConfig(host="mail", port=587, username="ada@x", password="p:ss", starttls=True),
        ),
        ("smtp://mail?starttls=true", SmtpConfig(host="mail", port=587, starttls=True)),
        ("smtps://u:p@mail", SmtpConfig("mail", 465, "u", "p", implicit_tls=True)),
    ],
)
def test_smtp_urls_parse(url: str, expected: SmtpConfig) -> None:
    assert SmtpConfig.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail:25", "must start with smtp://"),
        ("smtp://:25", "names no host"),
        ("smtp://mail:port", "invalid port"),
        ("smtps://mail?starttls=true", "already TLS"),
    ],
)
def test_bad_smtp_urls_are_refused_without_echoing_secrets(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SmtpConfig.from_url(url)


def test_the_password_never_shows_in_a_config_repr() -> None:
    assert "s3cret" not in repr(SmtpConfig.from_url("smtp://u:s3cret@mail:25"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://app.example.com/reset", "https://app.example.com/reset?token=T"),
        ("https://app.example.com/reset?lang=en", "https://app.example.com/reset?lang=en&token=T"),
    ],
)
def test_links_append_the_token_as_a_query_parameter(url: str, expected: str) -> None:
    assert link_with_token(url, "T") == expected


def test_tokens_are_random_url_safe_and_hashed() -> None:
    first, second = new_one_time_token(), new_one_time_token()
    assert first != second and len(first) >= 43  # 256 bits
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert hash_one_time_token(first) != first.encode() and len(hash_one_time_token(first)) == 32


def test_templates_fill_both_parts_and_escape_the_html_one() -> None:
    content = MailTemplates().password_reset(link="https://x.test/r?a=1&token=T", minutes=30)
    assert "https://x.test/r?a=1&token=T" in content.text and "30 minutes" in content.text
    assert 'href="https://x.test/r?a=1&amp;token=T"' in content.html
    assert "$" not in content.text + content.html  # every placeholder filled


def test_the_message_id_comes_from_the_row_and_both_parts_are_sent() -> None:
    mail = OutboxMail(
        id=42,
        recipient="ada@example.com",
        subject="Hi",
        body_text="plain",
        body_html="<p>html</p>",
        attempts=0,
        created_at=datetime.now(UTC),
    )
    message = mime_message(mail, mail_from="Auth <no-reply@auth.example>", now=datetime.now(UTC))
    assert (
        message["Message-ID"]
        == "<outbox-42@auth.example>"
        == message_id(42, "no-reply@auth.example")
    )
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]

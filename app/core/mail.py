"""Mails: what the outbox stores, how they are written from the package's templates, and
how a stored mail becomes the MIME message that goes over SMTP.

Templates are `string.Template` files in app/core/mail_templates (plain text and HTML
alike); values put into the HTML part are escaped. They contain no secret other than the
one-time link.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from importlib import resources
from string import Template

SERVICE_NAME = "auth-service"


@dataclass(frozen=True, slots=True)
class MailContent:
    """A mail before it has a recipient: subject and both parts."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class OutboxMail:
    """A claimed outbox row, ready to send."""

    id: int
    recipient: str
    subject: str
    body_text: str
    body_html: str
    attempts: int
    created_at: datetime


def _template(name: str) -> Template:
    return Template(resources.files("app.core").joinpath("mail_templates", name).read_text())


class MailTemplates:
    """The package's mails, loaded once."""

    def __init__(self) -> None:
        self._templates = {
            name: (_template(f"{name}.txt"), _template(f"{name}.html"))
            for name in ("password_reset", "verify_email")
        }

    def password_reset(self, *, link: str, minutes: int) -> MailContent:
        return self._render(
            "password_reset", "Reset your password", link=link, minutes=str(minutes)
        )

    def verify_email(self, *, link: str, hours: int) -> MailContent:
        return self._render(
            "verify_email", "Confirm your email address", link=link, hours=str(hours)
        )

    def _render(self, name: str, subject: str, **values: str) -> MailContent:
        text_template, html_template = self._templates[name]
        values["service"] = SERVICE_NAME
        return MailContent(
            subject=f"{subject} ({SERVICE_NAME})",
            text=text_template.substitute(values),
            html=html_template.substitute({k: html.escape(v) for k, v in values.items()}),
        )


def message_id(mail_id: int, mail_from: str) -> str:
    """The Message-ID of outbox row `mail_id`: the same on every attempt, so a mail sent
    again after a crash between sending and marking it sent is recognisably a repeat."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<outbox-{mail_id}@{domain}>"


def mime_message(mail: OutboxMail, *, mail_from: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(mail.id, mail_from)
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    return message

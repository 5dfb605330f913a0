"""The one normal form of an email address: what is stored, what must be unique, what a
login looks up, and what the lockout counts by. One function, so they cannot drift.

- the local part is NFC-composed, not NFKC: NFKC folds compatibility characters ("ﬁ" to
  "fi", full-width to ASCII), turning one mailbox into another that the mail server would
  not deliver to; NFC only unifies spellings of the same text, as RFC 6532 asks of
  internationalised addresses;
- the domain goes through IDNA 2008 with UTS #46 mapping and is kept in its Unicode form,
  so `ada@xn--bcher-kva.de` and `ada@bücher.de` are one address (the form email-validator
  gives at registration);
- the whole address is lower-cased here, in Python: PostgreSQL's lower() under the C
  locale folds ASCII only;
- the length limit applies to the result, which NFC can make longer than the input.
"""

from __future__ import annotations

import unicodedata

import idna

MAX_EMAIL_CHARS = 320  # the users.email and login_attempts.email_key columns


class EmailProblem(ValueError):
    """The text cannot be an email address once normalised (too long, a bad domain)."""


def normalize_email(email: str) -> str:
    """The normal form of `email`, or EmailProblem. Never echoes the value in the error."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain:
        raise EmailProblem("Not a valid email")
    local = unicodedata.normalize("NFC", local).lower()
    try:
        domain = idna.decode(idna.encode(domain, uts46=True))
    except (idna.IDNAError, UnicodeError):
        raise EmailProblem("Not a valid email domain") from None
    normal = f"{local}@{unicodedata.normalize('NFC', domain).lower()}"
    if len(normal) > MAX_EMAIL_CHARS:
        raise EmailProblem(f"Email must be at most {MAX_EMAIL_CHARS} characters once normalised")
    return normal


def normalize_email_prefix(prefix: str) -> str:
    """The start of a normal-form email that `prefix` asks for: trimmed, NFC, lower case, as
    normalize_email treats a whole address. A partial domain cannot go through IDNA, so a
    prefix reaching into the domain matches its stored (Unicode) form only."""
    return unicodedata.normalize("NFC", prefix.strip()).lower()

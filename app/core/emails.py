"""The one normal form of an email address, used at registration, login and lockout.

Trimmed and NFC-composed here; letter case is folded by PostgreSQL's lower() in every
comparison (the unique index, lookups, the login-attempt key), so all of them agree.
"""

from __future__ import annotations

import unicodedata


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFC", email.strip())

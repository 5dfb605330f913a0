"""The development JWT secret: random, made once, kept in a file only its owner can read.

Never a constant in the code: a constant is in every copy of the source, so anyone could
sign tokens for a server that forgot to set JWT_SECRET.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


def load_or_create_secret(path: Path) -> str:
    """The secret in `path`, made first if missing (mode 0600). Several workers starting at
    once agree: O_EXCL lets one create it, and the others read what it wrote."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    secret = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return secret


def _read(path: Path) -> str:
    for _ in range(50):  # another worker may have created it and not written it yet
        secret = path.read_text().strip()
        if secret:
            return secret
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it to have a new secret made")

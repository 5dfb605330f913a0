"""The list of common passwords that registration, password change and reset refuse.

app/core/data/common-passwords.txt.gz is Django's list (django/contrib/auth, 19,640
entries; BSD-3-Clause, see common-passwords.LICENSE beside it), itself Royce Williams'
list of the most common passwords from breach corpora. It is loaded once, on first use,
into a frozenset: about 1.5 MB, and a lookup is one hash.
"""

from __future__ import annotations

import gzip
import unicodedata
from functools import cache
from importlib.resources import files


@cache
def common_passwords() -> frozenset[str]:
    data = files("app.core").joinpath("data/common-passwords.txt.gz").read_bytes()
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return frozenset(_folded(line) for line in lines if line.strip())


def is_common(password: str) -> bool:
    """Case and surrounding spaces do not make a common password less common."""
    return _folded(password) in common_passwords()


def _folded(password: str) -> str:
    return unicodedata.normalize("NFKC", password).strip().casefold()

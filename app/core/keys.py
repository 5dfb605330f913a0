"""The keys that sign and verify access tokens, and their public halves as JWKs.

Under HS* one shared secret does both. Under ES256/RS256 a PEM private key signs and
earlier keys (private or public PEMs) still verify, each found by its `kid`, the RFC 7638
thumbprint of its public key; never by trying every key. A key file is refused here, with
the reason, unless it is exactly the kind of key the algorithm needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk

HMAC_ALGORITHMS: Final = frozenset({"HS256", "HS384", "HS512"})
MIN_RSA_BITS: Final = 2048
GENERATED_RSA_BITS: Final = 3072

# RFC 7638 §3.2: the thumbprint hashes exactly these members, in this (lexicographic) order.
_THUMBPRINT_MEMBERS: Final = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}
_PUBLIC_MEMBERS: Final = ("kty", "crv", "x", "y", "n", "e")

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class KeyFileError(Exception):
    """A key file cannot be used; the message says why (the caller names the setting)."""


@dataclass(frozen=True, slots=True)
class TokenKey:
    """One key as the token codec uses it: jose Key objects, prepared once."""

    algorithm: str
    kid: str | None  # None: the shared HS secret, which is never published
    verifier: Any = field(repr=False)  # the public half (or the HS secret)
    signer: Any = field(default=None, repr=False)  # the private half, when this key signs
    public_jwk: Mapping[str, str] | None = None


class KeyRing:
    """The signing key and every key whose tokens are still accepted, by `kid`."""

    def __init__(self, signing: TokenKey, verifying: Iterable[TokenKey] = ()) -> None:
        self.signing = signing
        self.algorithm = signing.algorithm
        self._by_kid = {key.kid: key for key in (signing, *verifying)}

    @classmethod
    def shared_secret(cls, secret: str, algorithm: str) -> KeyRing:
        key = jwk.construct(secret, algorithm)
        return cls(TokenKey(algorithm=algorithm, kid=None, verifier=key, signer=key))

    @property
    def uses_key_pairs(self) -> bool:
        return self.signing.kid is not None

    def verifier(self, *, alg: str, kid: str | None) -> TokenKey | None:
        """The one key a token's header points at, or None: unknown `kid`, or an `alg`
        other than that key's own (so a public key can never serve as an HMAC secret)."""
        key = self._by_kid.get(kid if self.uses_key_pairs else None)
        if key is None or key.algorithm != alg:
            return None
        return key

    def public_jwks(self) -> list[dict[str, str]]:
        return [dict(key.public_jwk) for key in self._by_kid.values() if key.public_jwk]


def thumbprint(public_jwk: Mapping[str, str]) -> str:
    """RFC 7638: SHA-256 over the required members as compact, sorted JSON, base64url."""
    members = _THUMBPRINT_MEMBERS[public_jwk["kty"]]
    canonical = json.dumps({name: public_jwk[name] for name in members}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def load_key_file(path: Path, algorithm: str, *, signs: bool) -> TokenKey:
    """A key from a PEM file; `signs` demands the private half. Only the public half of a
    verify-only key is kept."""
    pem = _read_private_file(path)
    key = _parse_pem(pem, require_private=signs)
    _check_fits(key, algorithm)
    if isinstance(key, PrivateKey):
        return _token_key(key.public_key(), algorithm, private=key if signs else None)
    return _token_key(key, algorithm)


def generate_private_key(algorithm: str) -> tuple[bytes, str]:
    """A new signing key as unencrypted PKCS#8 PEM, and its `kid`."""
    key: PrivateKey
    if algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=GENERATED_RSA_BITS)
    else:
        raise ValueError(f"no key pair for {algorithm}")
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = _token_key(key.public_key(), algorithm).kid
    assert kid is not None
    return pem, kid


def _token_key(public: PublicKey, algorithm: str, private: PrivateKey | None = None) -> TokenKey:
    # The stubs' construct() takes str, bytes, dict or Key only, but it hands key_data to the
    # backend's key class, and python-jose's cryptography backend takes pyca key objects.
    verifier = jwk.construct(public, algorithm)  # type: ignore[arg-type]
    members = verifier.to_dict()
    kid = thumbprint(members)
    public_jwk: dict[str, str] = {
        name: members[name] for name in _PUBLIC_MEMBERS if name in members
    }
    public_jwk.update(kid=kid, alg=algorithm, use="sig")
    signer = None if private is None else jwk.construct(private, algorithm)  # type: ignore[arg-type]
    return TokenKey(algorithm, kid, verifier=verifier, signer=signer, public_jwk=public_jwk)


def _read_private_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode  # follows links, as mounted secrets use them
        if not stat.S_ISREG(mode):  # a FIFO would block the read; a directory cannot be one
            raise KeyFileError("is not a regular file")
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            raise KeyFileError(
                f"is readable by group or others (mode {stat.S_IMODE(mode):04o}); chmod 600 it"
            )
        with path.open("rb") as file:
            return file.read(64 * 1024)  # far more than any PEM key; never a huge read
    except OSError as exc:
        raise KeyFileError(f"cannot be read: {exc.strerror}") from None


def _parse_pem(pem: bytes, *, require_private: bool) -> PrivateKey | PublicKey:
    if b"-----BEGIN" not in pem:
        raise KeyFileError("is not a PEM key")
    if b"PRIVATE KEY-----" in pem:
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:  # TypeError: encrypted, and no password given
            raise KeyFileError(f"is not an unencrypted PEM private key ({exc})") from None
        if not isinstance(private, PrivateKey):
            raise KeyFileError(f"holds a {type(private).__name__}, not an EC or RSA key")
        return private
    if require_private:
        raise KeyFileError("holds no private key (a signing key needs one)")
    try:
        public = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise KeyFileError(f"is not a PEM key ({exc})") from None
    if not isinstance(public, PublicKey):
        raise KeyFileError(f"holds a {type(public).__name__}, not an EC or RSA key")
    return public


def _check_fits(key: PrivateKey | PublicKey, algorithm: str) -> None:
    if algorithm == "ES256":
        if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
            raise KeyFileError("is not an EC key, which ES256 needs")
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyFileError(f"is on curve {key.curve.name}; ES256 needs P-256 (secp256r1)")
    elif algorithm == "RS256":
        if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            raise KeyFileError("is not an RSA key, which RS256 needs")
        if key.key_size < MIN_RSA_BITS:
            raise KeyFileError(
                f"is an RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} are needed"
            )
    else:
        raise KeyFileError(f"JWT_ALGORITHM {algorithm} takes no key file")

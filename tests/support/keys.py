"""Key pairs for tests: generated once per session (RSA is slow), written to files as an
operator would (mode 0600 unless a test wants otherwise)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.core.settings import Settings
from tests.support.settings import make_settings

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@functools.cache
def ec_key(name: str = "current", curve: str = "secp256r1") -> ec.EllipticCurvePrivateKey:
    """A P-256 key per `name` (the same object for the whole session)."""
    return ec.generate_private_key(ec.SECP384R1() if curve == "secp384r1" else ec.SECP256R1())


@functools.cache
def rsa_key(name: str = "current", bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def key_for(algorithm: str, name: str = "current") -> PrivateKey:
    return ec_key(name) if algorithm == "ES256" else rsa_key(name)


def private_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_file(path: Path, data: bytes, mode: int = 0o600) -> Path:
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


def key_pair_settings(
    directory: Path,
    algorithm: str,
    signing: PrivateKey,
    verifying: tuple[PrivateKey, ...] = (),
    **overrides: Any,
) -> Settings:
    """Settings signing with `signing` and also accepting `verifying` (public PEM files)."""
    signing_file = write_file(directory / f"signing-{id(signing)}.pem", private_pem(signing))
    verify_files = [
        write_file(directory / f"verify-{id(key)}.pem", public_pem(key)) for key in verifying
    ]
    return make_settings(
        jwt_algorithm=algorithm,
        jwt_signing_key_file=str(signing_file),
        jwt_verify_key_files=",".join(str(path) for path in verify_files),
        **overrides,
    )

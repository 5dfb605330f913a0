"""Key files: what each one must be for start-up to go on, and the JWKs published for them."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from app.core.keys import load_key_file, thumbprint
from app.core.settings import ConfigError, Settings
from tests.support.keys import (
    ec_key,
    key_pair_settings,
    private_pem,
    public_pem,
    rsa_key,
    write_file,
)
from tests.support.settings import make_settings

# RFC 7638 §3.1: the example key and the thumbprint the RFC gives for it.
RFC_7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC_7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def _integer(b64url: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(b64url + "=" * (-len(b64url) % 4)), "big")


def test_the_kid_is_the_rfc_7638_thumbprint_of_the_rfcs_example_key(tmp_path: Path) -> None:
    public = rsa.RSAPublicNumbers(e=65537, n=_integer(RFC_7638_N)).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = load_key_file(write_file(tmp_path / "rfc.pem", pem), "RS256", signs=False)
    assert key.kid == RFC_7638_THUMBPRINT
    assert key.public_jwk is not None and key.public_jwk["n"] == RFC_7638_N
    assert thumbprint({"kty": "RSA", "n": RFC_7638_N, "e": "AQAB"}) == RFC_7638_THUMBPRINT


def test_an_ec_jwk_has_its_public_members_only(tmp_path: Path) -> None:
    key = ec_key()
    loaded = load_key_file(write_file(tmp_path / "k.pem", private_pem(key)), "ES256", signs=True)
    jwk = dict(loaded.public_jwk or {})
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
    numbers = key.public_key().public_numbers()
    assert (_integer(jwk["x"]), _integer(jwk["y"])) == (numbers.x, numbers.y)
    assert len(jwk["x"]) == len(jwk["y"]) == 43  # 32 bytes each, leading zeros kept (RFC 7518)
    assert jwk["kid"] == loaded.kid == thumbprint(jwk)


def test_an_rsa_jwk_has_no_private_member(tmp_path: Path) -> None:
    key = rsa_key()
    loaded = load_key_file(write_file(tmp_path / "k.pem", private_pem(key)), "RS256", signs=True)
    jwk = dict(loaded.public_jwk or {})
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert _integer(jwk["n"]) == key.public_key().public_numbers().n
    assert jwk["e"] == "AQAB"


def test_a_private_verify_key_keeps_only_its_public_half(tmp_path: Path) -> None:
    path = write_file(tmp_path / "old.pem", private_pem(ec_key("old")))
    loaded = load_key_file(path, "ES256", signs=False)
    assert loaded.signer is None
    assert loaded.kid == load_key_file(path, "ES256", signs=True).kid


def _refusal(tmp_path: Path, **values: object) -> str:
    with pytest.raises(ConfigError) as refused:
        make_settings(**values)
    message = str(refused.value)
    assert "\n" not in message
    return message


def _pem_file(tmp_path: Path, data: bytes, mode: int = 0o600) -> str:
    return str(write_file(tmp_path / f"key-{len(list(tmp_path.iterdir()))}.pem", data, mode))


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_a_key_pair_algorithm_needs_a_signing_key_file(tmp_path: Path, algorithm: str) -> None:
    assert "JWT_SIGNING_KEY_FILE" in _refusal(tmp_path, jwt_algorithm=algorithm)


def test_each_unusable_signing_key_file_is_refused_naming_the_variable(tmp_path: Path) -> None:
    rsa_1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    encrypted = ec_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    unreadable = _pem_file(tmp_path, private_pem(ec_key()), mode=0o000)
    cases = {
        "cannot be read": ("ES256", str(tmp_path / "missing.pem")),
        "not a regular file": ("ES256", str(tmp_path)),
        "not a PEM key": ("ES256", _pem_file(tmp_path, b"just some bytes\n")),
        "not an unencrypted PEM private key": ("ES256", _pem_file(tmp_path, encrypted)),
        "no private key": ("ES256", _pem_file(tmp_path, public_pem(ec_key()))),
        "not an EC key": ("ES256", _pem_file(tmp_path, private_pem(rsa_key()))),
        "curve secp384r1": ("ES256", _pem_file(tmp_path, private_pem(ec_key("p384", "secp384r1")))),
        "not an RSA key": ("RS256", _pem_file(tmp_path, private_pem(ec_key()))),
        "1024 bits": ("RS256", _pem_file(tmp_path, private_pem(rsa_1024))),
        "readable by group or others (mode 0640)": (
            "ES256",
            _pem_file(tmp_path, private_pem(ec_key()), mode=0o640),
        ),
        "readable by group or others (mode 0604)": (
            "ES256",
            _pem_file(tmp_path, private_pem(ec_key()), mode=0o604),
        ),
        "not an EC or RSA key": (
            "ES256",
            _pem_file(
                tmp_path,
                ed25519.Ed25519PrivateKey.generate().private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            ),
        ),
    }
    if os.geteuid() != 0:  # root reads a 0000 file anyway
        cases["Permission denied"] = ("ES256", unreadable)
    for reason, (algorithm, path) in cases.items():
        message = _refusal(tmp_path, jwt_algorithm=algorithm, jwt_signing_key_file=path)
        assert message.startswith(f"JWT_SIGNING_KEY_FILE: {path} "), (reason, message)
        assert reason in message, (reason, message)


def test_an_unusable_verify_key_file_is_refused_naming_the_variable(tmp_path: Path) -> None:
    signing = _pem_file(tmp_path, private_pem(ec_key()))
    good = _pem_file(tmp_path, public_pem(ec_key("old")))
    for reason, path in {
        "not an EC key": _pem_file(tmp_path, public_pem(rsa_key())),
        "readable by group or others": _pem_file(tmp_path, public_pem(ec_key("old")), 0o644),
        "cannot be read": str(tmp_path / "gone.pem"),
    }.items():
        message = _refusal(
            tmp_path,
            jwt_algorithm="ES256",
            jwt_signing_key_file=signing,
            jwt_verify_key_files=f"{good}, {path}",
        )
        assert message.startswith(f"JWT_VERIFY_KEY_FILES: {path} "), message
        assert reason in message, message


def test_key_files_under_a_shared_secret_are_refused(tmp_path: Path) -> None:
    path = _pem_file(tmp_path, private_pem(ec_key()))
    message = _refusal(tmp_path, jwt_signing_key_file=path)  # JWT_ALGORITHM left at HS256
    assert "JWT_SIGNING_KEY_FILE" in message and "HS256" in message


def test_production_under_a_key_pair_needs_no_jwt_secret(tmp_path: Path) -> None:
    settings = key_pair_settings(
        tmp_path,
        "ES256",
        ec_key(),
        app_env="production",
        jwt_secret="change-me",
        database_url="postgresql://auth@db/auth",
    )
    assert settings.token_keys().algorithm == "ES256"  # JWT_SECRET is unused: its placeholder
    assert "JWT_SECRET" in _refusal(tmp_path, app_env="production", jwt_secret="change-me")


def test_public_base_url_must_be_absolute(tmp_path: Path) -> None:
    assert make_settings(public_base_url="https://auth.example.com/").public_base_url == (
        "https://auth.example.com"
    )
    assert make_settings(public_base_url="").public_base_url is None
    for bad in ("auth.example.com", "ftp://auth.example.com", "https://a.example?x=1"):
        assert "PUBLIC_BASE_URL" in _refusal(tmp_path, public_base_url=bad)


def test_settings_from_the_environment_load_the_key_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signing = _pem_file(tmp_path, private_pem(rsa_key()))
    old = _pem_file(tmp_path, public_pem(rsa_key("old")))
    monkeypatch.setenv("JWT_ALGORITHM", "RS256")
    monkeypatch.setenv("JWT_SIGNING_KEY_FILE", signing)
    monkeypatch.setenv("JWT_VERIFY_KEY_FILES", old)
    keys = Settings(_env_file=None).token_keys()
    assert keys.algorithm == "RS256" and len(keys.public_jwks()) == 2

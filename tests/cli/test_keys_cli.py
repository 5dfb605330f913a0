"""`auth-service keys generate`, and start-up refusing a bad key file, as an operator sees
them: one line on stderr, no traceback. Both run in process: `keys generate`'s file mode
comes from mkstemp, not from the process's umask, and the refusals come from the settings,
read before a server starts (the real entry point's refusals: tests/cli/test_cli.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from app.core.keys import load_key_file
from tests.support.cli import invoke, serve_refusal
from tests.support.keys import ec_key, private_pem, rsa_key, write_file


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_generate_writes_a_private_key_only_its_owner_reads(tmp_path: Path, algorithm: str) -> None:
    out = tmp_path / "signing.pem"
    result = invoke("keys", "generate", "--algorithm", algorithm, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    key = load_pem_private_key(out.read_bytes(), password=None)
    if algorithm == "ES256":
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    else:
        assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 3072
    kid = result.stdout.strip()
    assert kid == load_key_file(out, algorithm, signs=True).kid  # what tokens will carry
    assert [p.name for p in tmp_path.iterdir()] == ["signing.pem"]  # no temporary left


def test_generate_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = write_file(tmp_path / "signing.pem", b"an existing key", mode=0o644)
    refused = invoke("keys", "generate", "--algorithm", "ES256", "--out", str(out))
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert out.read_bytes() == b"an existing key"

    forced = invoke("keys", "generate", "--algorithm", "ES256", "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # the replaced file's 0644 is gone
    assert load_key_file(out, "ES256", signs=True).kid == forced.stdout.strip()


def test_generate_refuses_other_algorithms(tmp_path: Path) -> None:
    out = tmp_path / "k.pem"
    result = invoke("keys", "generate", "--algorithm", "HS256", "--out", str(out))
    assert result.exit_code == 2 and not out.exists()


DB = "postgresql://auth@db/auth"


def test_serve_refuses_bad_key_files_in_one_line(tmp_path: Path) -> None:
    loose = write_file(tmp_path / "loose.pem", private_pem(ec_key()), mode=0o644)
    cases = {
        "JWT_SIGNING_KEY_FILE": {"JWT_ALGORITHM": "ES256"},
        f"JWT_SIGNING_KEY_FILE: {loose} is readable by group or others": {
            "JWT_ALGORITHM": "ES256",
            "JWT_SIGNING_KEY_FILE": str(loose),
        },
        "JWT_VERIFY_KEY_FILES: ": {
            "JWT_ALGORITHM": "RS256",
            "JWT_SIGNING_KEY_FILE": str(write_file(tmp_path / "rsa.pem", private_pem(rsa_key()))),
            "JWT_VERIFY_KEY_FILES": str(write_file(tmp_path / "ec.pem", private_pem(ec_key()))),
        },
        "JWT_ALGORITHM": {"JWT_ALGORITHM": "ES512"},
    }
    for expected, env in cases.items():
        line = serve_refusal(env={"APP_ENV": "production", "DATABASE_URL": DB, **env})
        assert line.startswith(f"auth-service: {expected}"), line

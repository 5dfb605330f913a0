"""Under ES256/RS256 a token passes only when the key its `kid` names signed it with that
key's own algorithm. Each attack below gets the 401 envelope with the Bearer challenge."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from jose import jwt

from app.core.keys import load_key_file
from app.core.settings import Settings
from tests.support.keys import (
    PrivateKey,
    ec_key,
    key_for,
    key_pair_settings,
    private_pem,
    public_pem,
    rsa_key,
)
from tests.support.keys import write_file as write_key
from tests.support.tokens import assert_refused, b64, claims, hs256, me, who_is

SHARED_SECRET = "a-secret-that-once-signed-hs256-tokens-0123456789"


@pytest.fixture(params=["ES256", "RS256"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The app signs with key "current" and still accepts key "old"; JWT_SECRET is set
    too, to show that a token signed with it is refused."""
    algorithm: str = request.param
    return key_pair_settings(
        tmp_path,
        algorithm,
        key_for(algorithm),
        verifying=(key_for(algorithm, "old"),),
        jwt_secret=SHARED_SECRET,
    )


@pytest.fixture
async def who(client: httpx.AsyncClient) -> dict[str, str]:
    return await who_is(client)


def kid_of(settings: Settings, name: str = "current") -> str:
    keys = settings.token_keys()
    kid = keys.signing.kid if name == "current" else keys.public_jwks()[1]["kid"]
    assert kid is not None
    return kid


def signed_by(key: PrivateKey, algorithm: str, payload: dict[str, object], **header: object) -> str:
    return str(jwt.encode(payload, private_pem(key), algorithm=algorithm, headers=header))


async def test_our_own_token_carries_the_kid_and_passes(
    client: httpx.AsyncClient, settings: Settings, who: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse battery"}
    )
    token = response.json()["access_token"]
    assert jwt.get_unverified_header(token) == {
        "alg": settings.jwt_algorithm,
        "typ": "JWT",
        "kid": kid_of(settings),
    }
    assert (await me(client, token)).status_code == 200


async def test_attacks_on_key_pair_tokens_are_401(
    client: httpx.AsyncClient, settings: Settings, who: dict[str, str], tmp_path: Path
) -> None:
    algorithm = settings.jwt_algorithm
    kid = kid_of(settings)
    payload = claims(settings, who)
    stranger = {"sub": str(uuid.uuid4()), "sid": who["sid"]}
    ours = signed_by(key_for(algorithm), algorithm, payload, kid=kid)
    assert (await me(client, ours)).status_code == 200
    header, body, signature = ours.split(".")

    # What an attacker has: our public key as a PEM, and as the JWKS publishes it.
    public = public_pem(key_for(algorithm))
    published = (await client.get("/.well-known/jwks.json")).json()["keys"][0]
    public_jwk = json.dumps(published)
    attacker = key_for(algorithm, "attacker")
    attacker_jwk = load_key_file(
        write_key(tmp_path / "attacker.pem", public_pem(attacker)), algorithm, signs=False
    ).public_jwk
    assert attacker_jwk is not None
    other_family = rsa_key() if algorithm == "ES256" else ec_key()
    other_algorithm = "RS256" if algorithm == "ES256" else "ES256"
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": kid}

    await assert_refused(
        client,
        {
            "HS256 keyed with the public PEM": hs256(public, hs_header, payload),
            "HS256 keyed with the public PEM, no kid": hs256(
                public, {"alg": "HS256", "typ": "JWT"}, payload
            ),
            "HS256 keyed with the public JWK JSON": hs256(public_jwk.encode(), hs_header, payload),
            "HS256 signed with JWT_SECRET": str(
                jwt.encode(payload, SHARED_SECRET, algorithm="HS256")
            ),
            "HS256 signed with JWT_SECRET, our kid": hs256(
                SHARED_SECRET.encode(), hs_header, payload
            ),
            "alg none, no signature": f"{b64({'alg': 'none', 'kid': kid})}.{body}.",
            "alg none, a signature": f"{b64({'alg': 'none', 'kid': kid})}.{body}.{signature}",
            "foreign key with our kid": signed_by(attacker, algorithm, payload, kid=kid),
            "foreign key with its own kid": signed_by(
                attacker, algorithm, payload, kid=attacker_jwk["kid"]
            ),
            "foreign key, no kid": signed_by(attacker, algorithm, payload),
            "our key, no kid": signed_by(key_for(algorithm), algorithm, payload),
            "signature cut short": f"{header}.{body}.{signature[:20]}",
            "signature doubled": f"{header}.{body}.{signature}{signature}",
            "signature of zeros": f"{header}.{body}.{'A' * len(signature)}",
            "tampered payload": ".".join(
                [
                    header,
                    b64(claims(settings, stranger)),
                    signature,
                ]
            ),
            "tampered header": ".".join(
                [b64({"alg": algorithm, "kid": kid, "x": 1}), body, signature]
            ),
            "embedded jwk of the attacker": signed_by(
                attacker, algorithm, payload, kid=kid, jwk=attacker_jwk
            ),
            "jku pointing at the attacker": signed_by(
                attacker, algorithm, payload, kid=kid, jku="https://attacker.example/jwks.json"
            ),
            "x5u pointing at the attacker": signed_by(
                attacker, algorithm, payload, kid=kid, x5u="https://attacker.example/cert.pem"
            ),
            "our kid, the other family's algorithm": signed_by(
                other_family, other_algorithm, payload, kid=kid
            ),
            "our kid, a stronger hash of the same family": signed_by(
                key_for(algorithm), algorithm.replace("256", "384"), payload, kid=kid
            )
            if algorithm == "RS256"
            else signed_by(ec_key("p384", "secp384r1"), "ES384", payload, kid=kid),
            "the old key's kid, signed by the current key": signed_by(
                key_for(algorithm), algorithm, payload, kid=kid_of(settings, "old")
            ),
            "expired": signed_by(
                key_for(algorithm),
                algorithm,
                claims(settings, who, exp=int(time.time()) - 5),
                kid=kid,
            ),
        },
    )

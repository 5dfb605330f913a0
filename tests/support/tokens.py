"""Tokens for attacking the app: signed by hand, forged, or hostile in shape (the token
tests and the end-to-end hostile module share them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
from jose import jwt

from app.core.settings import Settings
from tests.support.http import assert_envelope, login, register


def claims(settings: Settings, who: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """Claims as the server signs them for `who` (a user id `sub` and their session `sid`)."""
    now = int(time.time())
    base = {
        **who,
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def sign(settings: Settings, payload: dict[str, Any], algorithm: str = "HS256") -> str:
    return str(jwt.encode(payload, settings.jwt_secret_value, algorithm=algorithm))


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256(secret: bytes, header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes) -> str:
    """A token signed by hand: any header and payload bytes, even what jose refuses to sign
    (a PEM as the HMAC secret, a payload that is not JSON)."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


async def assert_refused(client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    """Each token gets the 401 envelope with the Bearer challenge (and never a 5xx)."""
    for name, token in tokens.items():
        response = await me(client, token)
        assert response.status_code == 401, (name, response.status_code, response.text[:200])
        assert_envelope(response, 401, "AuthenticationError")
        assert response.headers["WWW-Authenticate"] == "Bearer", name


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    # Bytes: httpx refuses a non-ASCII str header value, and hostile tokens carry some.
    authorization = f"Bearer {token}".encode()
    return await client.get("/api/v1/users/me", headers={b"Authorization": authorization})


DEEP = 3_000  # python-jose's json.loads raised RecursionError on this header: a 500


def hostile_shapes(settings: Settings, who: dict[str, str]) -> dict[str, str]:
    """Tokens no key holder made: every way the outer shape and the header can be wrong."""
    good = sign(settings, claims(settings, who))
    header, payload, signature = good.split(".")
    hs = {"alg": "HS256", "typ": "JWT"}

    def with_header(raw: dict[str, Any] | bytes) -> str:
        return ".".join([b64(raw), payload, signature])

    aligned = header[: len(header) - len(header) % 4]
    return {
        "header nested arrays": with_header(b"[" * DEEP + b"]" * DEEP),
        "header nested objects": with_header(b'{"a":' * DEEP + b"1" + b"}" * DEEP),
        "header object nesting arrays": with_header(b'{"alg":' + b"[" * DEEP),
        "payload nested, unsigned": ".".join([header, b64(b"[" * DEEP + b"]" * DEEP), signature]),
        "over 8 KiB": ".".join([header, b64(claims(settings, who, pad="x" * 8192)), signature]),
        "1 MiB": "a" * (1 << 20),
        "one segment": header,
        "two segments": f"{header}.{payload}",
        "four segments": f"{good}.{signature}",
        "empty signature": f"{header}.{payload}.",
        "empty header": f".{payload}.{signature}",
        "only dots": "..",
        "padding characters": f"{header}=.{payload}.{signature}",
        "standard base64 alphabet": f"{header}.{payload}.{signature}+/",
        "space inside": f"{header}.{payload[:10]} {payload[10:]}.{signature}",
        "non-ASCII": f"{header}.{payload}.{signature}\u00e9",
        "impossible base64 length": f"{aligned}a.{payload}.{signature}",
        "header not JSON": with_header(b"not json"),
        "header not UTF-8": with_header(b"\xff\xfe{}"),
        "header an array": with_header(b'["HS256"]'),
        "header a string": with_header(b'"HS256"'),
        "header null": with_header(b"null"),
        "header a huge integer": with_header(b'{"alg":' + b"9" * 5000 + b"}"),
        "no alg": with_header({"typ": "JWT"}),
        "alg a number": with_header({"alg": 256}),
        "alg a list": with_header({"alg": ["HS256"]}),
        "alg null": with_header({"alg": None}),
        "alg lower case": with_header({**hs, "alg": "hs256"}),
        "alg None spelled": with_header({"alg": "None"}),
        "kid a number": with_header({**hs, "kid": 7}),
        "kid an object": with_header({**hs, "kid": {"$ne": ""}}),
        "crit extension": sign_with_header(settings, who, crit=["exp"]),
    }


def sign_with_header(settings: Settings, who: dict[str, str], **header: Any) -> str:
    return str(
        jwt.encode(claims(settings, who), settings.jwt_secret_value, "HS256", headers=header)
    )


def hostile_payloads(settings: Settings, who: dict[str, str]) -> dict[str, str]:
    """Payloads validly signed with our own secret, so they reach the claim checks: only a
    key holder can make these, and they must still be a 401, not a 5xx."""
    secret = settings.jwt_secret_value.encode()
    header = {"alg": "HS256", "typ": "JWT"}
    good = claims(settings, who)

    def signed(payload: dict[str, Any] | bytes) -> str:
        return hs256(secret, header, payload)

    return {
        "payload nested 3,000 deep": signed(b"[" * DEEP + b"]" * DEEP),
        "payload object nested": signed(b'{"sub":' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}"),
        "payload not JSON": signed(b"{sub: admin}"),
        "payload not UTF-8": signed(b'{"sub": "\xff"}'),
        "payload an array": signed(b"[1, 2]"),
        "payload a string": signed(b'"admin"'),
        "payload null": signed(b"null"),
        "sub a number": signed({**good, "sub": 42}),
        "sub a list": signed({**good, "sub": [who["sub"]]}),
        "sub empty": signed({**good, "sub": ""}),
        "exp a string of digits": signed({**good, "exp": str(good["exp"])}),
        "exp a list": signed({**good, "exp": [good["exp"]]}),
        "exp an object": signed({**good, "exp": {"$gt": 0}}),
        "exp infinite": signed(json.dumps(good).replace(str(good["exp"]), "1e999").encode()),
        "exp NaN": signed(json.dumps(good).replace(str(good["exp"]), "NaN").encode()),
        "exp 5,000 digits": signed(json.dumps(good).replace(str(good["exp"]), "9" * 5000).encode()),
        "exp true": signed({**good, "exp": True}),
        "iat a list": signed({**good, "iat": [1]}),
        "iat infinite": signed(json.dumps(good).replace(str(good["iat"]), "-1e999").encode()),
        "nbf a list": signed({**good, "nbf": [1]}),
        "nbf in the future": signed({**good, "nbf": int(time.time()) + 600}),
        "aud an object": signed({**good, "aud": {"x": settings.jwt_audience}}),
        "aud a list of numbers": signed({**good, "aud": [1, 2]}),
        "iss a list": signed({**good, "iss": [settings.jwt_issuer]}),
        "jti a number": signed({**good, "jti": 5}),
    }


async def who_is(client: httpx.AsyncClient) -> dict[str, str]:
    """A registered user with a live session: the `sub` and `sid` of their access tokens."""
    user_id = str((await register(client))["id"])
    session_id = jwt.get_unverified_claims(await login(client))["sid"]
    return {"sub": user_id, "sid": session_id}

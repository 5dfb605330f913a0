"""Driving the lockout: failed logins from chosen client addresses, what a client can
compare between two answers, and the plans of the lockout's reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI

MAX_FAILURES = 3
MAX_PER_ADDRESS = 8
WINDOW = 900
LOGIN = "/api/v1/auth/login"
WRONG_PASSWORD = "wrong password"


async def attempt(
    http: httpx.AsyncClient, email: str = "ada@example.com", password: str = WRONG_PASSWORD
) -> httpx.Response:
    return await http.post(LOGIN, json={"email": email, "password": password})


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def shape(response: httpx.Response) -> tuple[int, str, str, str | None]:
    """What a client can compare between two answers (not the request id)."""
    error = response.json()["error"]
    challenge = response.headers.get("www-authenticate")
    return (response.status_code, error["type"], error["message"], challenge)


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)

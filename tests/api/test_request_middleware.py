"""The one middleware of ours: X-Request-ID, the body limit, the metrics and the access line
in a single layer, and what a hostile client can put in the request id or the method."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from starlette.types import Message

from app.api.middleware import RequestMiddleware
from app.api.request_id import choose_request_id
from tests.support.metrics import scrape


def test_one_middleware_of_ours_sits_on_the_stack(app: FastAPI) -> None:
    assert [getattr(m, "cls", None) for m in app.user_middleware] == [RequestMiddleware]


def test_a_request_id_must_match_whole_not_up_to_a_newline() -> None:
    assert choose_request_id(b"req-kept-1") == "req-kept-1"
    for hostile in (b"req-forged\n", b"a b", b"x" * 129, b""):
        replaced = choose_request_id(hostile)
        assert replaced != hostile.decode() and len(replaced) == 32, hostile


async def test_a_raw_request_id_with_a_newline_is_replaced_on_the_wire(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Through the whole app: httpx refuses to send a newline, a raw client would not."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/health",
        "raw_path": b"/health",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"x-request-id", b"req-forged\n")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 200
    [request_id] = [v for k, v in start["headers"] if k == b"x-request-id"]
    assert b"\n" not in request_id and len(request_id) == 32


async def test_a_method_outside_the_fixed_set_is_labelled_other(
    client: httpx.AsyncClient,
) -> None:
    response = await client.request("BREW", "/health")
    assert response.status_code == 405
    assert response.headers["x-request-id"]
    samples = await scrape(client)
    assert samples.value("http_requests_total", method="other", route="/health", status="405")
    assert "BREW" not in samples.text


async def test_an_error_response_carries_exactly_one_request_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/nowhere", headers={"X-Request-ID": "req-once-1"})
    assert response.status_code == 404
    assert response.headers.get_list("x-request-id") == ["req-once-1"]
    assert response.json()["error"]["requestId"] == "req-once-1"

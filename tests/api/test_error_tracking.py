"""Sentry end to end: the real SDK sends its real envelope to a local server playing the
DSN endpoint, and we read what arrived."""

from __future__ import annotations

import gzip
import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support.error_tracking_app import LOCAL_SECRET
from tests.support.processes import app_environment, served
from tests.support.settings import TEST_PASSWORD

pytestmark = pytest.mark.process

RELEASE = "auth-service@9.9.9-test"


class FakeSentry(ThreadingHTTPServer):
    """Accepts envelopes on /api/<project>/envelope/ and keeps them, decompressed."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EnvelopeHandler)
        self.raw: list[bytes] = []
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def dsn(self) -> str:
        return f"http://public0123456789abcdef@127.0.0.1:{self.server_address[1]}/42"

    def receive(self, body: bytes) -> None:
        with self.lock:
            self.raw.append(body)
            self.events.extend(_events_in(body))

    def wait_for_events(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.05)
        raise AssertionError(f"got {len(self.events)} events, expected {count}")


class _EnvelopeHandler(BaseHTTPRequestHandler):
    server: FakeSentry

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        assert encoding in (None, "gzip"), encoding
        if encoding == "gzip":
            body = gzip.decompress(body)
        assert self.path == "/api/42/envelope/", self.path
        self.server.receive(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads what arrived, not the server's chatter."""


def _events_in(envelope: bytes) -> list[dict[str, Any]]:
    """Sentry's envelope: a header line, then (item header line, payload) pairs."""
    _, _, rest = envelope.partition(b"\n")
    events = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        if header.get("type") == "event":
            events.append(json.loads(payload))
    return events


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    server = FakeSentry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def served_with_sentry(own_database: str, fake_sentry: FakeSentry) -> Iterator[str]:
    """uvicorn serving the app with SENTRY_DSN set; yields its base URL."""
    env = app_environment(own_database, SENTRY_DSN=fake_sentry.dsn, SENTRY_RELEASE=RELEASE)
    factory = "tests.support.error_tracking_app:create"
    argv = [sys.executable, "-m", "uvicorn", factory, "--factory", "--no-access-log"]
    with served(argv, env) as base_url:
        yield base_url


def test_5xx_reports_carry_request_route_release_user_and_no_secrets(
    served_with_sentry: str, fake_sentry: FakeSentry
) -> None:
    with httpx.Client(base_url=served_with_sentry, timeout=10) as http:
        credentials = {"email": "ada@example.com", "password": TEST_PASSWORD}
        user = http.post("/api/v1/users", json=credentials).json()
        token = http.post("/api/v1/auth/login", json=credentials).json()["access_token"]
        secrets_in_body = {"password": TEST_PASSWORD, "refresh_token": token}
        headers = {
            "Authorization": f"Bearer {token}",
            "Cookie": "session=cookie-secret-77",
            "X-Request-ID": "req-boom-1",
        }
        unavailable = http.post(
            "/unavailable", json=secrets_in_body, headers={**headers, "X-Request-ID": "req-503-2"}
        )
        # Last: uvicorn closes the connection after an exception escaped the app.
        boom = http.post("/boom/7?token=query-secret-88", json=secrets_in_body, headers=headers)
    assert boom.status_code == 500
    assert unavailable.status_code == 503

    events = fake_sentry.wait_for_events(2)
    by_request = {event["tags"]["request_id"]: event for event in events}
    assert set(by_request) == {"req-boom-1", "req-503-2"}

    crash = by_request["req-boom-1"]
    assert crash["exception"]["values"][-1]["type"] == "RuntimeError"
    assert crash["transaction"] == "/boom/{item_id}"  # the route, not the raw path
    assert crash["tags"]["route"] == "/boom/{item_id}"
    assert crash["release"] == RELEASE
    assert crash["environment"] == "test"
    assert crash["user"] == {"id": user["id"]}
    assert crash["request"]["method"] == "POST"
    assert crash["request"]["headers"].get("x-request-id") == "req-boom-1"

    outage = by_request["req-503-2"]
    assert outage["exception"]["values"][-1]["type"] == "DatabaseUnavailableError"
    assert outage["tags"]["route"] == "/unavailable"
    assert outage["user"] == {"id": user["id"]}
    assert outage["release"] == RELEASE

    sent = b"".join(fake_sentry.raw).decode()
    for secret in (TEST_PASSWORD, token, LOCAL_SECRET, "cookie-secret-77", "query-secret-88"):
        assert secret not in sent, secret
    assert token.split(".")[1] not in sent
    for event in events:
        request = event["request"]
        assert "data" not in request  # no request body
        assert "cookies" not in request and "query_string" not in request
        assert {h.lower() for h in request["headers"]}.isdisjoint({"authorization", "cookie"})
        for exception in event["exception"]["values"]:
            for frame in exception.get("stacktrace", {}).get("frames", []):
                assert "vars" not in frame  # no local variables

"""Schemathesis against /openapi.json of the real app (uvicorn, pool, migrated database).

It must find no 5xx, no error outside the envelope, and no status or body shape the OpenAPI
document does not declare. Examples are bounded (MAX_EXAMPLES per operation and mode) so the
suite stays fast. Driven through schemathesis's Python API and hypothesis directly: its
pytest plugin's lazy fixtures do not run under pytest 9.2.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.transport import Response as FuzzResponse

from app.api.schemas.envelope import ErrorEnvelope
from app.db.local import create_database, drop_database, free_port
from app.main import create_app
from tests.support.database import unique_name, with_database
from tests.support.settings import TEST_PASSWORD, make_settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz")]  # one server, one schema load

MAX_EXAMPLES = 10
FUZZ_EMAIL = "fuzz@example.com"
# Known at collection time from the app itself; the test then loads the served document.
_PATHS = create_app(make_settings()).openapi()["paths"]
OPERATIONS = sorted(
    pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode.value}")
    for path, item in _PATHS.items()
    for method, spec in item.items()
    for mode in GenerationMode
    # Negative data needs an input to break; GET /health has none.
    if mode is GenerationMode.POSITIVE or spec.get("parameters") or spec.get("requestBody")
)
# Rules JSON Schema cannot state, so schema-valid data may still get a (documented) 422 there:
# email-validator refuses special-use domains such as .test, and new passwords are limited to
# 72 UTF-8 bytes after NFKC (bcrypt), not to a number of characters. A one-time token is any
# string to the schema, and a made-up one is the documented 400 InvalidTokenError.
LOOSER_THAN_SCHEMA = {
    "/api/v1/users",
    "/api/v1/users/me/password",
    "/api/v1/auth/password-reset/confirm",
    "/api/v1/users/verify-email",
}


@schemathesis.check
def error_envelope(ctx: Any, response: FuzzResponse, case: Case[Any]) -> bool | None:
    """Every non-2xx is the envelope, its statusCode the status, its requestId the header."""
    if response.status_code < 400:
        return None
    envelope = ErrorEnvelope.model_validate_json(response.content)
    assert envelope.error.statusCode == response.status_code, "statusCode is not the status"
    request_id = (response.headers.get("x-request-id") or [""])[0]
    assert envelope.error.requestId == request_id, "requestId is not X-Request-ID"
    return True


@pytest.fixture(scope="module")
async def fuzz_database(server_url: str, template_url: str) -> AsyncIterator[str]:
    name = unique_name("auth_fuzz")
    await create_database(server_url, name, template=template_url.rpartition("/")[2])
    yield with_database(server_url, name)
    await drop_database(server_url, name)


@pytest.fixture(scope="module")
def api_url(fuzz_database: str) -> Iterator[str]:
    """The app on a real uvicorn server in a thread of its own (with its own event loop)."""
    app = create_app(
        make_settings(database_url=fuzz_database, login_max_failures_per_address=100_000)
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="module")
def bearer(api_url: str) -> dict[str, str]:
    """A real user's token, so protected routes are fuzzed past their auth check too."""
    user = {"email": FUZZ_EMAIL, "password": TEST_PASSWORD}
    with httpx.Client(base_url=api_url) as http:
        http.post("/api/v1/users", json=user)
        login = http.post("/api/v1/auth/login", json=user)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture(scope="module")
def api_schema(api_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{api_url}/openapi.json")


@pytest.mark.parametrize(("method", "path", "mode"), OPERATIONS)
def test_operation_conforms_to_its_openapi(
    api_schema: Any,
    api_url: str,
    bearer: dict[str, str],
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode), with_token=st.booleans())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run: CI failures reproduce locally
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case[Any], with_token: bool) -> None:
        # With and without a valid token, so protected routes are fuzzed past auth too.
        headers = bearer if with_token and "Authorization" not in (case.headers or {}) else None
        case.call_and_validate(
            base_url=api_url,
            headers=headers,
            additional_checks=[error_envelope],
            excluded_checks=[positive_data_acceptance] if path in LOOSER_THAN_SCHEMA else [],
        )

    run()

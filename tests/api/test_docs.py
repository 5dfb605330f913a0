"""The docs pages work offline, and the OpenAPI document describes every route fully."""

from __future__ import annotations

import re

import httpx

from app.api.routes.responses import error_responses


async def test_docs_pages_load_assets_from_the_app_only(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
            assert (await client.get(asset)).status_code == 200, asset


async def test_every_operation_has_summary_description_tags_and_envelope_errors(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary") and operation.get("description"), where
            assert operation.get("tags"), where
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, where


async def test_authorize_button_uses_the_password_form_endpoint(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert spec["paths"]["/api/v1/users/me"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]


async def test_redoc_page_keeps_images_on_this_origin(client: httpx.AsyncClient) -> None:
    response = await client.get("/redoc")
    assert response.headers["Content-Security-Policy"] == "img-src 'self' data: blob:"


def test_error_responses_describe_a_status_we_have_no_words_for() -> None:
    declared = error_responses(404, 410, 499)
    assert declared[404]["description"] == "Not found"  # ours
    assert declared[410]["description"] == "Gone"  # the standard phrase
    assert declared[499]["description"] == "Error 499"  # no standard one either
    assert set(declared) == {404, 410, 413, 422, 499, 500}
    assert all(response["model"].__name__ == "ErrorEnvelope" for response in declared.values())

"""The ReDoc page, served like FastAPIOffline's but with a Content-Security-Policy.

ReDoc 2 always loads Redocly's logo from its CDN, which would tell a third party about every
visit; the policy keeps images on this origin, and nothing else on the page needs one.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html
from starlette.responses import HTMLResponse

STATIC = "/static-offline-docs"  # where FastAPIOffline mounts its bundled assets


def install_redoc(app: FastAPI, path: str = "/redoc") -> None:
    @app.get(path, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = "img-src 'self' data: blob:"
        return page

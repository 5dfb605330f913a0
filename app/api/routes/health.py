"""Liveness (never touches the database), readiness (the database answers and is at the
migration head) and the Prometheus scrape endpoint."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.api.deps import MetricsDep, Uow, provide
from app.api.routes.responses import error_responses
from app.api.schemas.health import HealthOut
from app.services.readiness import ReadinessService

ReadinessServiceDep = Annotated[ReadinessService, Depends(provide(lambda s: s.readiness))]

router = APIRouter()  # attached in app.api.routes


@router.get("/health", summary="Liveness", description="200 while the process serves requests.")
async def health() -> HealthOut:
    return HealthOut()


@router.get(
    "/ready",
    summary="Readiness",
    description=(
        "200 when the database answers and is at the migration head; otherwise a 503 "
        "envelope whose message names the failed check."
    ),
    responses=error_responses(503),
)
async def ready(uow: Uow, readiness: ReadinessServiceDep) -> HealthOut:
    await readiness.check(uow)
    return HealthOut()


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Text exposition format; see docs/operations.md for what each metric means.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request, metrics: MetricsDep) -> Response:
    database = getattr(request.app.state, "database", None)
    if database is not None:  # the gauges are also written on every acquire and release
        metrics.sample_pools(database.pools())
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)

"""Liveness (never touches the database) and readiness (the database answers)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Uow
from app.api.routes.responses import error_responses
from app.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness", description="200 while the process serves requests.")
async def health() -> HealthOut:
    return HealthOut()


@router.get(
    "/ready",
    summary="Readiness",
    description="200 when the database answers; a 503 envelope otherwise.",
    responses=error_responses(503),
)
async def ready(uow: Uow) -> HealthOut:
    await uow.ping()
    return HealthOut()

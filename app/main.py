"""The application factory: the one place that wires the layers together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from app.api.docs import install_redoc
from app.api.errors import install_error_handlers
from app.api.middleware import RequestMiddleware
from app.api.routes import attach_routes
from app.core.errortracking import init_error_tracking
from app.core.gc_tuning import tune_after_start_up
from app.core.logging import access_logger, configure_logging, get_logger
from app.core.mail_metrics import MailMetrics
from app.core.metrics import Metrics, ReplicaMetrics
from app.core.passwords import PasswordHasher
from app.core.settings import Settings
from app.core.smtp import MailTransport
from app.core.tokens import TokenCodec
from app.db.database import Database
from app.db.read_router import ReadRouteMetrics
from app.db.replica_health import ReplicaHealthChecker
from app.db.urls import resolve_jwt_secret
from app.services.container import Services
from app.services.mail_delivery import DeliveryPolicy, OutboxWorker, mail_transport

logger = get_logger("app.mail")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()  # checked as it was built (app.core.settings)
    settings = resolve_jwt_secret(settings)
    configure_logging(settings)
    init_error_tracking(settings)
    metrics = Metrics()

    hasher = PasswordHasher(rounds=settings.bcrypt_rounds, max_queue=settings.bcrypt_max_queue)
    keys = settings.token_keys()
    tokens = TokenCodec.from_settings(settings, keys=keys)
    replica_metrics = ReplicaMetrics(metrics.registry)  # exported on /metrics with the rest
    read_metrics = ReadRouteMetrics(metrics.registry)
    mail_metrics = MailMetrics(metrics.registry)
    transport = mail_transport(settings)  # a bad SMTP_URL stops start-up here

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings, metrics=metrics, read_metrics=read_metrics)
        await database.open()
        app.state.database = database
        metrics.sample_pools(database.pools())
        replica_health = ReplicaHealthChecker.configured(
            database.pool, database.replicas, settings, metrics=replica_metrics
        )
        worker = _outbox_worker(settings, database, transport, mail_metrics)
        try:
            await replica_health.start()  # no task at all without replicas
            await hasher.warm_up()
            if worker is not None:
                worker.start()
            if settings.gc_tuning:
                tune_after_start_up()  # last: everything start-up made is frozen
            yield
        finally:
            if worker is not None:
                await worker.shutdown()  # before the pool closes: claims are handed back
            await replica_health.stop()
            await database.close()
            metrics.process_exiting()

    # FastAPIOffline serves Swagger UI and ReDoc assets from the package itself: no CDN.
    app = FastAPIOffline(
        redoc_url=None,  # our own page: see app/api/docs.py
        title="auth-service",
        version="0.1.0",
        description=(
            "User accounts and login over PostgreSQL. Register, log in, then press "
            "**Authorize** and sign in with your email as the username to try `/users/me`.\n\n"
            'Every error comes back as `{"error": {"message", "type", '
            '"statusCode", "requestId"}}`.'
        ),
        openapi_tags=[
            {"name": "auth", "description": "Logging in: tokens for an email and password."},
            {"name": "users", "description": "Registration and the caller's own profile."},
            {
                "name": "admin",
                "description": (
                    "Account administration, for users with `is_admin` (granted only from "
                    "the command line: `auth-service users set-admin EMAIL`)."
                ),
            },
            {"name": "health", "description": "Liveness and readiness probes."},
            {"name": "discovery", "description": "Keys and metadata for verifying our tokens."},
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = Services.build(
        settings,
        metrics=metrics,
        hasher=hasher,
        tokens=tokens,
        keys=keys,
        mail_metrics=mail_metrics,
    )

    install_redoc(app)
    install_error_handlers(app)
    app.add_middleware(
        RequestMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        access_log=access_logger(),
    )
    attach_routes(app)
    return app


def _outbox_worker(
    settings: Settings, database: Database, transport: MailTransport | None, metrics: MailMetrics
) -> OutboxWorker | None:
    """The lifespan's outbox worker, or None: MAIL_WORKER=false, or nowhere to send."""
    if not settings.mail_worker:
        return None
    if transport is None:
        if settings.app_env == "production":
            logger.warning(
                "SMTP_URL is not set: mails stay queued in the outbox until a worker with "
                "SMTP_URL delivers them (auth-service mail deliver)"
            )
        return None
    return OutboxWorker(
        unit_of_work=database.unit_of_work,
        transport=transport,
        mail_from=settings.mail_from,
        metrics=metrics,
        policy=DeliveryPolicy.from_settings(settings),
    )

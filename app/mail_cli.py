"""`auth-service mail ...`: the outbox worker on its own, for running delivery in a
process of its own (with MAIL_WORKER=false on the servers) or sending what is due once."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from pydantic import SecretStr

from app.core.settings import Settings

mail_cli = typer.Typer(no_args_is_help=True, help="The mail outbox.")


@mail_cli.command()
def deliver(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
) -> None:
    """Run the outbox worker: claim due mails, send them over SMTP_URL, retry failures."""
    from app.cli import _database_url, _settings
    from app.core.settings import ConfigError
    from app.services.mail_delivery import mail_transport

    settings = _settings()
    url = _database_url(settings)
    try:
        transport = mail_transport(settings)
    except ConfigError as exc:
        typer.echo(f"auth-service: {exc}", err=True)
        raise typer.Exit(2) from None
    if transport is None:
        typer.echo("auth-service: SMTP_URL is not set: nowhere to deliver mail", err=True)
        raise typer.Exit(2)
    attempted = asyncio.run(_deliver(settings, url, once=once))
    if once:
        typer.echo(f"attempted {attempted} mail(s)")


async def _deliver(settings: Settings, url: str, *, once: bool) -> int:
    from app.core.logging import configure_logging
    from app.core.mail_metrics import MailMetrics
    from app.core.metrics import Metrics
    from app.db.database import Database
    from app.services.mail_delivery import DeliveryPolicy, OutboxWorker, mail_transport

    configure_logging(settings)
    transport = mail_transport(settings)
    assert transport is not None  # checked by the command
    database = Database(
        settings.model_copy(update={"database_url": SecretStr(url), "db_pool_min_size": 1})
    )
    await database.open()
    worker = OutboxWorker(
        unit_of_work=database.unit_of_work,
        transport=transport,
        mail_from=settings.mail_from,
        metrics=MailMetrics(Metrics().registry),  # counted, but no /metrics here: see the logs
        policy=DeliveryPolicy.from_settings(settings),
    )
    try:
        if once:
            return await worker.drain()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, worker.stop)  # finish the mail in flight, then exit
        await worker.run()
        return 0
    finally:
        await database.close()

"""Retention: delete what no lockout, limit or session needs any more (`db prune`).

Each step is one repository method that deletes one batch of rows older than a cutoff and
says how many went; a step runs batch after batch, each its own short transaction, until a
batch comes back short. A table added later joins by adding a step to PRUNE_STEPS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.db.uow import UnitOfWork

BatchDelete = Callable[[UnitOfWork, float, int], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class PruneStep:
    name: str
    delete_batch: BatchDelete
    # Audit events keep their own retention (AUDIT_RETENTION_DAYS): --older-than, meant for
    # lockout rows and tokens, must never shorten the trail.
    audit: bool = False


PRUNE_STEPS: tuple[PruneStep, ...] = (
    PruneStep(
        "login attempts",
        lambda uow, age, limit: uow.login_attempts.prune_batch(older_than_seconds=age, limit=limit),
    ),
    PruneStep(
        "registration attempts",
        lambda uow, age, limit: uow.registration_attempts.prune_batch(
            older_than_seconds=age, limit=limit
        ),
    ),
    PruneStep(
        "expired or revoked refresh tokens",
        lambda uow, age, limit: uow.refresh_tokens.prune_batch(older_than_seconds=age, limit=limit),
    ),
    PruneStep(
        "ended or expired sessions",
        lambda uow, age, limit: uow.sessions.prune_batch(older_than_seconds=age, limit=limit),
    ),
    PruneStep(
        "spent or expired one-time tokens",
        lambda uow, age, limit: uow.one_time_tokens.prune_batch(
            older_than_seconds=age, limit=limit
        ),
    ),
    PruneStep(
        "delivered mails",
        lambda uow, age, limit: uow.mail_outbox.prune_batch(older_than_seconds=age, limit=limit),
    ),
    PruneStep(
        "audit events",
        lambda uow, age, limit: uow.audit_events.prune_batch(older_than_seconds=age, limit=limit),
        audit=True,
    ),
)


async def prune(
    uow: UnitOfWork,
    *,
    older_than_days: float,
    audit_retention_days: float = 365,
    batch_size: int = 1000,
    steps: tuple[PruneStep, ...] = PRUNE_STEPS,
) -> dict[str, int]:
    """Rows deleted per step. Outside any transaction each batch commits on its own, so a
    running server never waits long on these rows' locks. The audit step needs the schema
    owner (the app role may not delete audit rows)."""
    deleted: dict[str, int] = {}
    for step in steps:
        age = (audit_retention_days if step.audit else older_than_days) * 86400
        total = 0
        while True:
            count = await step.delete_batch(uow, age, batch_size)
            total += count
            if count < batch_size:
                break
        deleted[step.name] = total
    return deleted

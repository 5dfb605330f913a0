"""The read replicas a process knows, whether each may take reads now, how far each has
replayed, and whose turn it is.

The health checker (app/db/replica_health.py) sets a replica up or down and notes its replay
position; the read router (app/db/read_router.py) picks one per request, and a unit of work
reports a replica that failed it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg


@dataclass(eq=False)
class Replica:
    name: str  # the pool's name in Database.pools() and in metric labels: "replica-0", ...
    url: str
    pool: asyncpg.Pool
    # Down until the first check proves otherwise: a replica of unknown lag takes no reads.
    healthy: bool = False
    lag_seconds: float = field(default=math.nan)
    # pg_last_wal_replay_lsn() at the last check that reached it; None when unknown.
    replayed: int | None = None

    def mark_down(self) -> None:
        """A request found this replica failing: no more reads until a check passes again."""
        self.healthy = False


class ReplicaSet:
    """Round-robin over the replicas that are up; empty when none is configured."""

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self._turn = 0

    def __bool__(self) -> bool:
        return bool(self.replicas)

    def next_where(self, accept: Callable[[Replica], bool]) -> Replica | None:
        """The next replica in turn that `accept`s, or None: the caller reads from the
        primary. The turn moves past the one chosen."""
        for _ in range(len(self.replicas)):
            replica = self.replicas[self._turn % len(self.replicas)]
            self._turn += 1
            if accept(replica):
                return replica
        return None

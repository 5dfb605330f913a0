"""Waiting for a server's state to change, by asking it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

# A bound on polling for a state change, only ever reached when something is broken: these
# waits make no timing claims.
EVENTUALLY_SECONDS = 30.0


async def eventually(
    condition: Callable[[], Awaitable[bool]], *, seconds: float = EVENTUALLY_SECONDS
) -> None:
    """Poll `condition` until it holds; TimeoutError after `seconds`."""
    async with asyncio.timeout(seconds):
        while True:  # polling a server, not waiting on anything an Event could signal
            if await condition():
                return
            await asyncio.sleep(0.02)

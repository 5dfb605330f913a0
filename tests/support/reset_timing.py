"""Known against unknown password-reset requests, interleaved: the timing test and
bench/reset_timing.py measure the same way."""

from __future__ import annotations

import statistics
import time

import httpx

PASSWORD = "correct horse battery"
KINDS = ("known account", "unknown email")
RESET = "/api/v1/auth/password-reset"
# Throttles high enough that every known request does the full work (token and mail).
UNTHROTTLED = {"password_reset_max_per_hour": 100_000, "password_reset_max_per_address": 100_000}


async def measure(http: httpx.AsyncClient, *, repeats: int) -> dict[str, list[float]]:
    """Seconds per answer of each kind, interleaved so machine noise hits both alike.

    `http` talks to an app with an empty database and the UNTHROTTLED settings.
    """
    response = await http.post(
        "/api/v1/users", json={"email": "known@example.com", "password": PASSWORD}
    )
    assert response.status_code == 201, response.text

    def email(kind: str, n: int) -> str:
        return "known@example.com" if kind == "known account" else f"nobody{n}@example.com"

    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for n in range(repeats + 3):  # the first rounds warm caches up and are not kept
        for kind in KINDS if n % 2 else reversed(KINDS):
            started = time.perf_counter()
            response = await http.post(RESET, json={"email": email(kind, n)})
            elapsed = time.perf_counter() - started
            assert response.status_code == 202, response.text
            if n >= 3:
                times[kind].append(elapsed)
    return times


def ratio(times: dict[str, list[float]]) -> float:
    """The median, over the rounds, of the known account's answer over the unknown email's
    in the same round: a pair measured back to back shares the machine's load of the moment,
    so a burst from another process moves both and not only one of two medians."""
    pairs = zip(times["known account"], times["unknown email"], strict=True)
    return statistics.median(known / unknown for known, unknown in pairs)

"""The primary pool's acquire wait and hold time over one load run, read off /metrics.

The ceiling has no metrics, so this is the project's side only: how long a request held its
connection (what sets how many requests one pool serves) and how long it queued for one.
The histograms' buckets are coarse, so the tail is given as the share of acquires that
waited longer than a bucket bound, not as a percentile.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.support.metrics import Samples

_LONG_WAIT = "0.1"  # seconds: an acquire slower than this is a p99-sized event here


@dataclass(frozen=True)
class PoolReading:
    """Cumulative counters at one moment; subtract two to get one run's figures."""

    acquires: float
    wait_seconds: float
    waits_over_long: float
    holds: float
    hold_seconds: float

    def __sub__(self, other: PoolReading) -> PoolReading:
        return PoolReading(
            self.acquires - other.acquires,
            self.wait_seconds - other.wait_seconds,
            self.waits_over_long - other.waits_over_long,
            self.holds - other.holds,
            self.hold_seconds - other.hold_seconds,
        )

    @property
    def mean_wait_ms(self) -> float:
        return self.wait_seconds / self.acquires * 1000 if self.acquires else 0.0

    @property
    def long_wait_share(self) -> float:
        return self.waits_over_long / self.acquires if self.acquires else 0.0

    @property
    def mean_hold_ms(self) -> float:
        return self.hold_seconds / self.holds * 1000 if self.holds else 0.0

    def describe(self) -> str:
        return (
            f"hold {self.mean_hold_ms:.2f} ms, wait {self.mean_wait_ms:.2f} ms, "
            f"waits > {_LONG_WAIT} s {self.long_wait_share:.1%}"
        )


def read(base_url: str) -> PoolReading:
    samples = Samples(httpx.get(f"{base_url}/metrics", timeout=10).text)
    primary = {"pool": "primary"}
    waits_total = samples.value("db_pool_acquire_seconds_bucket", le="+Inf", **primary)
    waits_short = samples.value("db_pool_acquire_seconds_bucket", le=_LONG_WAIT, **primary)
    return PoolReading(
        acquires=samples.value("db_pool_acquire_seconds_count", **primary),
        wait_seconds=samples.value("db_pool_acquire_seconds_sum", **primary),
        waits_over_long=waits_total - waits_short,
        holds=samples.value("db_connection_hold_seconds_count", **primary),
        hold_seconds=samples.value("db_connection_hold_seconds_sum", **primary),
    )

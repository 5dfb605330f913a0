"""The primary pool's acquire wait and hold time over one load run, read off /metrics.

The ceiling has no metrics, so this is the project's side only: how long a request held its
connection (what sets how many requests one pool serves) and how long it queued for one.
The histograms' buckets are coarse, so the tail is given as the share of acquires that
waited longer than a bucket bound, not as a percentile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

_SAMPLE = re.compile(r"^(db_pool_acquire_seconds|db_connection_hold_seconds)_(\w+)\{(.*)\} (\S+)$")
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
    values: dict[tuple[str, str], float] = {}
    waits_total = waits_short = 0.0
    for line in httpx.get(f"{base_url}/metrics", timeout=10).text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or 'pool="primary"' not in match[3]:
            continue
        name, kind, labels, value = match[1], match[2], match[3], float(match[4])
        if name == "db_pool_acquire_seconds" and kind == "bucket":
            if 'le="+Inf"' in labels:
                waits_total = value
            elif f'le="{_LONG_WAIT}"' in labels:
                waits_short = value
        else:
            values[(name, kind)] = value
    return PoolReading(
        acquires=values.get(("db_pool_acquire_seconds", "count"), 0.0),
        wait_seconds=values.get(("db_pool_acquire_seconds", "sum"), 0.0),
        waits_over_long=waits_total - waits_short,
        holds=values.get(("db_connection_hold_seconds", "count"), 0.0),
        hold_seconds=values.get(("db_connection_hold_seconds", "sum"), 0.0),
    )

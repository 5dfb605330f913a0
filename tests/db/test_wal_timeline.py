"""How a replica's replay position becomes seconds of lag (pure arithmetic, no server)."""

from __future__ import annotations

from app.db.replica_health import WalTimeline


def test_a_caught_up_replica_has_no_lag_however_long_the_primary_was_idle() -> None:
    timeline = WalTimeline(retention_seconds=300)
    timeline.record(at=0.0, lsn=100)
    timeline.record(at=3600.0, lsn=100)  # an hour without writes
    assert timeline.lag(replayed=100, now=3600.0) == 0.0


def test_lag_counts_from_when_the_primary_first_had_the_missing_wal() -> None:
    timeline = WalTimeline(retention_seconds=300)
    timeline.record(at=10.0, lsn=100)
    timeline.record(at=11.0, lsn=200)
    timeline.record(at=12.0, lsn=200)  # a repeat keeps the first time the position was seen
    timeline.record(at=13.0, lsn=300)
    assert timeline.lag(replayed=100, now=15.0) == 4.0
    assert timeline.lag(replayed=250, now=15.0) == 2.0
    assert timeline.lag(replayed=300, now=15.0) == 0.0


def test_old_positions_are_forgotten_so_lag_is_capped_by_the_retention() -> None:
    timeline = WalTimeline(retention_seconds=5)
    for second in range(20):
        timeline.record(at=float(second), lsn=100 + second)
    assert timeline.lag(replayed=0, now=19.0) == 5.0

"""How a replica's replay position becomes seconds of lag (pure arithmetic, no server)."""

from __future__ import annotations

from app.db.replica_health import WalTimeline


def test_a_caught_up_replica_has_no_lag_however_long_the_primary_was_idle() -> None:
    timeline = WalTimeline(retention_seconds=300)
    timeline.record(at=0.0, lsn=100)
    timeline.record(at=3600.0, lsn=100)  # an hour without writes
    assert timeline.lag(replayed=100, now=3600.0) == 0.0


def test_lag_counts_from_the_last_time_the_primary_lacked_the_missing_wal() -> None:
    timeline = WalTimeline(retention_seconds=300)
    timeline.record(at=10.0, lsn=100)
    timeline.record(at=11.0, lsn=200)
    timeline.record(at=12.0, lsn=200)  # a repeat: no WAL past 200 existed before 12
    timeline.record(at=13.0, lsn=300)
    assert timeline.lag(replayed=100, now=15.0) == 5.0
    assert timeline.lag(replayed=250, now=15.0) == 3.0
    assert timeline.lag(replayed=300, now=15.0) == 0.0


def test_a_replica_paused_just_before_a_write_lags_from_the_first_check_that_sees_it() -> None:
    # The case: replay paused on an idle primary, then one write (a deactivation).
    # Counting from when the write was first seen would read 0 here, one interval later.
    timeline = WalTimeline(retention_seconds=300)
    for second in range(50):
        timeline.record(at=float(second), lsn=100)
    timeline.record(at=50.0, lsn=200)
    assert timeline.lag(replayed=100, now=50.0) == 1.0
    timeline.record(at=56.0, lsn=200)
    assert timeline.lag(replayed=100, now=56.0) == 7.0


def test_with_no_known_caught_up_moment_lag_counts_from_when_the_wal_was_first_seen() -> None:
    timeline = WalTimeline(retention_seconds=300)
    timeline.record(at=0.0, lsn=200)
    timeline.record(at=9.0, lsn=200)
    assert timeline.lag(replayed=100, now=10.0) == 10.0


def test_old_positions_are_forgotten_so_lag_is_capped_by_the_retention() -> None:
    timeline = WalTimeline(retention_seconds=5)
    for second in range(20):
        timeline.record(at=float(second), lsn=100 + second)
    assert timeline.lag(replayed=0, now=19.0) == 5.0

"""`serve --workers 2`: two real uvicorn worker processes, and /metrics still adds up.

Each worker counts in its own process; whichever worker answers a scrape must report the
sum of both (prometheus-client multiprocess mode, set up by the CLI).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.support.metrics import Samples
from tests.support.processes import app_environment, served

pytestmark = pytest.mark.process

HEALTH = {"method": "GET", "route": "/health", "status": "200"}
POOL_MAX = 3


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_99999.db").write_bytes(b"stale file from an earlier run")
    return directory


@pytest.fixture
def two_workers(own_database: str, metrics_dir: Path) -> Iterator[str]:
    env = app_environment(
        own_database,
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE=str(POOL_MAX),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    argv = [sys.executable, "-m", "app", "serve", "--workers", "2"]
    with served(argv, env, ready=lambda: len(_worker_pids(metrics_dir)) == 2) as base_url:
        yield base_url


def _worker_pids(metrics_dir: Path) -> set[str]:
    """Workers that started their app (each writes its live pool gauges at start-up)."""
    return {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("gauge_livesum_*.db")}


def _per_worker_health_counts(metrics_dir: Path, scratch: Path) -> dict[str, float]:
    """Each worker's own /health count, read from that worker's file alone."""
    counts = {}
    for file in metrics_dir.glob("counter_*.db"):
        alone = scratch / file.stem
        alone.mkdir(exist_ok=True)
        shutil.copy(file, alone / file.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        samples = Samples(generate_latest(registry).decode())
        counts[file.stem.rsplit("_", 1)[1]] = samples.value("http_requests_total", **HEALTH)
    return counts


def _settled_health_counts(metrics_dir: Path, scratch: Path, sent: int) -> dict[str, float]:
    """The per-worker counts once they account for `sent` requests, or as they are after a
    few seconds: a worker counts a request when its response is out, so the client can read
    the files a moment before the last one is counted."""
    deadline = time.monotonic() + 5
    while True:
        counts = _per_worker_health_counts(metrics_dir, scratch)
        if sum(counts.values()) >= sent or time.monotonic() > deadline:
            return counts
        time.sleep(0.02)


def test_metrics_add_up_across_two_worker_processes(
    two_workers: str, metrics_dir: Path, tmp_path: Path
) -> None:
    assert not (metrics_dir / "counter_99999.db").exists()  # stale files were cleared
    sent = 1  # the readiness probe above
    counts: dict[str, float] = {}
    # New connection per request: the kernel spreads them over both workers' accepts.
    while sent < 400 and sum(1 for c in counts.values() if c > 0) < 2:
        for _ in range(10):
            assert httpx.get(f"{two_workers}/health").status_code == 200
            sent += 1
        counts = _settled_health_counts(metrics_dir, tmp_path, sent)
    assert sorted(counts) == sorted(_worker_pids(metrics_dir))
    assert all(count > 0 for count in counts.values()), counts  # both served some
    assert sum(counts.values()) == sent

    for _ in range(6):  # whichever worker answers, the totals are the same
        samples = Samples(httpx.get(f"{two_workers}/metrics").text)
        assert samples.value("http_requests_total", **HEALTH) == sent
        assert samples.value("db_pool_max", pool="primary") == 2 * POOL_MAX  # live workers, summed
        assert samples.value("db_pool_size", pool="primary") >= 2  # min size 1 in each

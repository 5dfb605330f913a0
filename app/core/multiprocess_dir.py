"""The directory prometheus-client's multiprocess mode shares between workers
(app/core/metrics.py explains the mode); `auth-service serve` prepares it before the
workers start."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from app.core.metrics import MULTIPROC_ENV


def prepare_multiprocess_dir(workers: int) -> Path | None:
    """Set up PROMETHEUS_MULTIPROC_DIR for the workers about to start.

    An operator's directory is emptied of a previous run's files (stale counters would
    otherwise be summed in); with several workers and none set, a fresh temporary one is
    made. Must run before the workers import prometheus_client. Returns a directory the
    caller should remove when it made it.
    """
    existing = os.environ.get(MULTIPROC_ENV)
    if existing:
        directory = Path(existing)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return None
    if workers <= 1:
        return None
    created = Path(tempfile.mkdtemp(prefix="auth-service-metrics-"))
    os.environ[MULTIPROC_ENV] = str(created)
    return created


def remove_dir(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)

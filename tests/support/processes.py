"""The app served by a real uvicorn process of its own, for what only processes show
(several workers, an SDK sending from its own threads)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from app.db.local import free_port
from tests.support.database import ROOT
from tests.support.settings import TEST_ROUNDS


def app_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment a served app reads its settings from."""
    return {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": "served-app-test-secret-0123456789-abcdef",
        "BCRYPT_ROUNDS": str(TEST_ROUNDS),
        "LOG_LEVEL": "WARNING",
        "REGISTER_MAX_PER_ADDRESS": "10000",
        **settings,
    }


@contextmanager
def served(
    argv: list[str], env: dict[str, str], *, ready: Callable[[], bool] = lambda: True
) -> Iterator[str]:
    """Run `argv` plus `--port P` and yield its base URL once `ready()` and /health answer."""
    port = free_port()
    process = subprocess.Popen([*argv, "--port", str(port)], cwd=ROOT, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not (ready() and _healthy(base_url)):
            assert process.poll() is None, "the server exited during start-up"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False

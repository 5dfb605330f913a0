"""Starting and stopping real uvicorn servers: the project, the ceiling, the probed project.

Each runs as its own process tree (uvicorn's supervisor and workers), configured only
through the environment, exactly as an operator would run it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.db.local import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def project_command(port: int | str, workers: int) -> list[str]:
    return [
        str(BIN / "auth-service"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def uvicorn_command(factory: str, port: int | str, workers: int, log_level: str) -> list[str]:
    """uvicorn with the options `auth-service serve` passes, for apps from bench/."""
    return [
        str(BIN / "uvicorn"),
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--proxy-headers",
        "--log-level",
        log_level,
    ]


def shown(argv: list[str]) -> str:
    return " ".join([Path(argv[0]).name, *argv[1:]])


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (uvicorn and its workers).

        CPU per request is steadier than requests per second on a machine whose other
        work comes and goes, so the report shows both."""
        return sum(_own_cpu_seconds(pid) for pid in process_tree(self.pid))


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            pids += process_tree(int(child))
    return pids


def _own_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime


@contextmanager
def running(
    argv_for_port: Any,
    env: dict[str, str],
    *,
    name: str,
    ready_path: str = "/health",
    cwd: Path = ROOT,
) -> Iterator[Server]:
    """Start `argv_for_port(port)` in `cwd`, wait until it answers, yield it, stop it
    with SIGTERM (a graceful shutdown, so lifespan shutdown code runs)."""
    port = free_port()
    argv: list[str] = argv_for_port(port)
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open for the process's life)
        prefix=f"auth-bench-{name}-", suffix=".log", delete=False
    )
    process = subprocess.Popen(  # noqa: S603 (our own argv)
        argv,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: we stop workers and supervisor
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + ready_path, process, Path(log.name))
        yield Server(base, process.pid)
    finally:
        _stop(process)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within 60 s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

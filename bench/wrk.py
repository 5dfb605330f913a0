"""Driving load with wrk: install it when missing, run a Lua workload, read its numbers.

Each workload script gets its data (tokens, emails) prepended as Lua globals and the
shared `done()` from lua/report.lua appended, which prints one JSON line we parse.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent / "lua"
_MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    non_2xx_3xx: int
    statuses: dict[int, int] = field(default_factory=dict)
    command: str = ""
    server_cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.requests * 1e6 if self.requests else 0.0


def ensure_installed() -> str:
    """The wrk binary, installed from Debian's package when missing (root only)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("wrk is not installed: apt-get install wrk (or brew install wrk)")
    print("installing wrk (apt-get install wrk)...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)  # noqa: S607
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)  # noqa: S607
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get install wrk did not provide a wrk binary")
    return found


def lua_value(value: Any) -> str:
    """A Python str, int or list of those as a Lua literal (our data has no odd bytes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid Lua escapes for ASCII
    if isinstance(value, list | tuple):
        return "{" + ",".join(lua_value(item) for item in value) + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def build_script(workload: str, data: dict[str, Any], directory: Path) -> Path:
    """lua/<workload>.lua with `data` as globals before it and the reporter after it."""
    globals_ = "".join(f"{name} = {lua_value(value)}\n" for name, value in data.items())
    body = (LUA_DIR / f"{workload}.lua").read_text()
    reporter = (LUA_DIR / "report.lua").read_text()
    path = directory / f"{workload}.lua"
    path.write_text(f"{globals_}\n{body}\n{reporter}")
    return path


class Wrk:
    def __init__(self, binary: str, workdir: Path | None = None) -> None:
        self.binary = binary
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="auth-bench-wrk-"))

    def command(
        self,
        url: str,
        workload: str,
        data: dict[str, Any],
        *,
        connections: int,
        seconds: float,
        timeout_s: int = 10,
    ) -> list[str]:
        script = build_script(workload, data, self.workdir)
        threads = max(1, min(2, connections))
        return [
            self.binary,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={timeout_s}s",
            "-s",
            str(script),
            url,
        ]

    def start(self, argv: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603 (our own argv)
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def finish(
        self, process: subprocess.Popen[str], argv: list[str], *, counted: bool = False
    ) -> LoadResult:
        if counted:
            _interrupt_when_threads_stop(process)
        output, _ = process.communicate()
        return parse(output, shown_command(argv))

    def run(
        self,
        url: str,
        workload: str,
        data: dict[str, Any],
        *,
        counted: bool = False,
        **options: Any,
    ) -> LoadResult:
        """`counted`: the script stops its threads after a number of responses; wrk itself
        would still sleep out its duration, so it is interrupted (SIGINT: it reports)."""
        argv = self.command(url, workload, data, **options)
        return self.finish(self.start(argv), argv, counted=counted)


def _interrupt_when_threads_stop(process: subprocess.Popen[str]) -> None:
    """Wait until only wrk's main thread is left (Linux /proc), then SIGINT it."""
    tasks = Path(f"/proc/{process.pid}/task")
    time.sleep(0.5)  # let the worker threads start
    while process.poll() is None:
        try:
            if len(list(tasks.iterdir())) <= 1:
                process.send_signal(signal.SIGINT)
                return
        except FileNotFoundError:
            return
        time.sleep(0.05)


def shown_command(argv: list[str]) -> str:
    """The command as a reader can retype it: the generated script by its workload name."""
    shown = [Path(arg).name if arg.endswith(".lua") else arg for arg in argv]
    shown[0] = "wrk"
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", " ".join(shown))


def parse(output: str, command: str) -> LoadResult:
    line = next((ln for ln in output.splitlines() if ln.startswith(_MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    raw = json.loads(line[len(_MARKER) :])
    return LoadResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        socket_errors=raw["connect_errors"]
        + raw["read_errors"]
        + raw["write_errors"]
        + raw["timeouts"],
        non_2xx_3xx=raw["status_errors"],
        statuses={int(code): count for code, count in raw.get("statuses", {}).items()},
        command=command,
    )

"""`auth-service` in this process, through typer's CliRunner: the same commands, exit codes
and output as the real process, without an interpreter start-up (about a second) each."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from app.cli import cli
from tests.support.settings import TEST_ROUNDS

SCRUBBED = ("DATABASE_", "JWT_", "APP_")  # the caller's own settings must not leak in


def invoke(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> Result:
    """Run one command; an exception that escapes it fails the test (no exit code 1)."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith(SCRUBBED)}
    environment = {**unset, "APP_ENV": "test", "BCRYPT_ROUNDS": str(TEST_ROUNDS), **(env or {})}
    return CliRunner().invoke(cli, list(args), input=stdin, env=environment, catch_exceptions=False)


async def auth_service(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> Result:
    """`invoke` from async tests: in a thread, as alembic and `users create` run an event
    loop of their own."""
    return await asyncio.to_thread(invoke, *args, env=env, stdin=stdin)


def serve_refusal(env: dict[str, str]) -> str:
    """The one line `serve` refuses to start with, in process: settings (key files
    included) are read before a server starts. Should that ever change, the port is taken,
    so the server that would start fails at once instead of serving."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = invoke("serve", "--port", str(taken.getsockname()[1]), env=env)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and result.stdout == "", result.output
    return lines[0]


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """The real `auth-service` process, for what only a process shows (exit on start-up
    refusals, signals, its own event loop)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={**base, "APP_ENV": "test", "BCRYPT_ROUNDS": str(TEST_ROUNDS), **(env or {})},
        check=False,
    )

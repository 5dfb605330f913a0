"""The measurements, one function each; __main__ runs them in order and reports."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from passlib.context import CryptContext

from bench import servers
from bench.database import Seeded
from bench.wrk import LoadResult, Wrk
from tests.support.metrics import Samples


@dataclass(frozen=True)
class Plan:
    """How long and how hard each phase runs."""

    concurrencies: tuple[int, ...]
    seconds: float
    warmup_seconds: float
    login_seconds: float
    mixed_requests: int
    isolation_tests: int
    workers: int
    users: int
    ratio_rounds: int = 5  # interleaved project/ceiling rounds at c=32 (bench/rounds.py)
    round_seconds: float = 5

    @classmethod
    def full(cls, workers: int) -> Plan:
        return cls((1, 8, 32, 64, 128), 8, 3, 15, 10_000, 200, workers, 200, 7, 6)

    @classmethod
    def quick(cls, workers: int) -> Plan:
        return cls((1, 32, 64), 2, 1, 4, 2_000, 200, workers, 50, 3, 2)


@dataclass(frozen=True)
class SweepPoint:
    concurrency: int
    project: LoadResult
    ceiling: LoadResult

    @property
    def ratio(self) -> float:
        return self.project.rps / self.ceiling.rps if self.ceiling.rps else 0.0

    @property
    def cpu_ratio(self) -> float:
        project = self.project.cpu_us_per_request
        return self.ceiling.cpu_us_per_request / project if project else 0.0


def _me_data(seeded: Seeded) -> dict[str, Any]:
    return {"TOKENS": seeded.tokens}


def measured(
    wrk: Wrk, server: servers.Server, workload: str, data: dict[str, Any], **options: Any
) -> LoadResult:
    """A wrk run with the server's CPU time over it."""
    cpu_before = server.cpu_seconds()
    result = wrk.run(server.url, workload, data, **options)
    return replace(result, server_cpu_s=server.cpu_seconds() - cpu_before)


def sweep(
    wrk: Wrk, targets: dict[str, servers.Server], seeded: Seeded, plan: Plan
) -> dict[str, list[LoadResult]]:
    """GET /users/me at each concurrency on every server, taking turns at each level so that
    a change in background load hits them alike; each is warmed up first."""
    data = _me_data(seeded)
    for server in targets.values():
        wrk.run(
            server.url,
            "users_me",
            data,
            connections=max(plan.concurrencies),
            seconds=plan.warmup_seconds,
        )
    results: dict[str, list[LoadResult]] = {label: [] for label in targets}
    for connections in plan.concurrencies:
        for label, server in targets.items():
            result = measured(
                wrk, server, "users_me", data, connections=connections, seconds=plan.seconds
            )
            if result.non_2xx_3xx or result.socket_errors:
                raise RuntimeError(f"{label}: failed requests at -c{connections}: {result}")
            print(
                f"  {label:8} c={connections:<4} {result.rps:8.0f} req/s  "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  "
                f"{result.cpu_us_per_request:5.0f} us CPU/req",
                flush=True,
            )
            results[label].append(result)
    return results


@dataclass(frozen=True)
class LoginResult:
    rounds: int
    verify_ms: float
    parallel_rate: float
    cores: int
    login: LoadResult  # wrk's view of the whole run, the filling and draining included
    health: LoadResult
    steady: SteadyLogins

    @property
    def cpu_ms_per_login(self) -> float:
        """Server CPU per login in the steady window (the paced /health probe included):
        next to one verify's time it shows whether the server spends on anything but bcrypt."""
        return self.steady.cpu_ms_per_login

    @property
    def bound_per_s(self) -> float:
        return self.cores / (self.verify_ms / 1000)

    @property
    def ratio(self) -> float:
        return self.steady.per_s / self.bound_per_s


@dataclass(frozen=True)
class SteadyLogins:
    """Logins the server completed in a window that starts once every bcrypt thread is busy
    and ends before the load stops, counted by the server itself (auth_logins_total).

    wrk's own figure covers the whole run: the first verifies finish only a verify's time
    after the start, and the server's CPU for the logins still in flight when wrk stops is
    charged to the ones it counted (at c=8 and 300 ms a verify, up to 2.4 s of CPU over a
    15 s run: the "34 ms beyond bcrypt per login" an earlier report read as server work)."""

    logins: float
    seconds: float
    cpu_seconds: float

    @property
    def per_s(self) -> float:
        return self.logins / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_login(self) -> float:
        return self.cpu_seconds / self.logins * 1000 if self.logins else 0.0


_SETTLE_SECONDS = 3.0  # the login pipeline fills (and the /health probe starts) before counting


def successful_logins(base_url: str) -> float:
    """auth_logins_total{outcome="success"} as the server reports it now."""
    samples = Samples(httpx.get(f"{base_url}/metrics", timeout=10).text)
    if not samples.has("auth_logins_total"):
        raise RuntimeError("auth_logins_total is not in /metrics")
    return samples.value("auth_logins_total", outcome="success")


_PASSWORD = "correct horse battery staple"  # noqa: S105 (a bench password)


def verify_time_ms(rounds: int, samples: int) -> float:
    """Median wall time of one bcrypt verify at `rounds`, on one thread of this process."""
    context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
    hashed = context.hash(_PASSWORD)
    context.verify(_PASSWORD, hashed)  # warm
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        context.verify(_PASSWORD, hashed)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def parallel_verify_rate(rounds: int, threads: int, per_thread: int) -> float:
    """Verifies per second with `threads` threads at once: what the cores really give bcrypt
    on this machine right now (a cross-check of the bound, which assumes perfect scaling)."""
    context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
    hashed = context.hash(_PASSWORD)

    def work() -> None:
        for _ in range(per_thread):
            context.verify(_PASSWORD, hashed)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * per_thread / (time.perf_counter() - started)


def logins(
    wrk: Wrk,
    server: servers.Server,
    seeded: Seeded,
    plan: Plan,
    *,
    rounds: int,
    verify_ms: float,
    parallel_rate: float,
) -> LoginResult:
    """Logins saturating the workers, with /health probed on the side; the throughput and
    CPU per login are those of the steady window (SteadyLogins)."""
    login_data = {"EMAILS": seeded.emails, "PASSWORD": seeded.password}
    cores = os.cpu_count() or 1
    connections = 4 * cores
    window = plan.login_seconds
    login_argv = wrk.command(
        server.url,
        "login",
        login_data,
        connections=connections,
        seconds=window + 2 * _SETTLE_SECONDS,
    )
    health_argv = wrk.command(
        server.url + "/health", "health", {}, connections=2, seconds=window - 2
    )
    login_process = wrk.start(login_argv)
    time.sleep(_SETTLE_SECONDS)
    counted_before, cpu_before = successful_logins(server.url), server.cpu_seconds()
    started = time.perf_counter()
    health = wrk.finish(wrk.start(health_argv), health_argv)
    time.sleep(max(0.0, window - (time.perf_counter() - started)))
    counted_after, cpu_after = successful_logins(server.url), server.cpu_seconds()
    steady = SteadyLogins(
        logins=counted_after - counted_before,
        seconds=time.perf_counter() - started,
        cpu_seconds=cpu_after - cpu_before,
    )
    login = wrk.finish(login_process, login_argv)
    if login.non_2xx_3xx or login.socket_errors:
        raise RuntimeError(f"login: failed requests: {login}")
    return LoginResult(rounds, verify_ms, parallel_rate, cores, login, health, steady)


@dataclass
class ConnectionUsage:
    load: LoadResult
    pool_max: int
    workers: int
    peak_held: int
    acquires: int
    db_free_requests: int
    db_free_acquires: int
    wait_p50_ms: float
    wait_p99_ms: float
    wait_max_ms: float
    held_at_shutdown: int
    backends_peak: int
    busy_backends_peak: int
    per_worker: list[dict[str, Any]] = field(default_factory=list)


class ActivitySampler:
    """Samples pg_stat_activity for the app's backends on a thread of its own."""

    QUERY = """
        SELECT count(*), count(*) FILTER (WHERE state <> 'idle')
        FROM pg_stat_activity
        WHERE application_name = 'auth-service' AND datname = current_database()
    """

    def __init__(self, url: str, interval_s: float = 0.01) -> None:
        self.url = url
        self.interval_s = interval_s
        self.backends_peak = 0
        self.busy_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._sample()), daemon=True)

    async def _sample(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            while not self._stop.is_set():
                row = await conn.fetchrow(self.QUERY)
                assert row is not None  # counts without GROUP BY: always one row
                backends, busy = row
                self.backends_peak = max(self.backends_peak, backends)
                self.busy_peak = max(self.busy_peak, busy)
                await asyncio.sleep(self.interval_s)
        finally:
            await conn.close()

    def __enter__(self) -> ActivitySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def connection_usage(
    wrk: Wrk, env: dict[str, str], url: str, seeded: Seeded, plan: Plan, *, pool_max: int
) -> tuple[ConnectionUsage, str]:
    """Mixed requests at concurrency 64 against the probed app (bench/probe.py)."""
    probe_dir = Path(tempfile.mkdtemp(prefix="auth-bench-probe-"))
    connections = 64
    threads = 2
    data = {
        "TOKENS": seeded.tokens,
        "EMAILS": seeded.emails,
        "PASSWORD": seeded.password,
        "LIMIT": plan.mixed_requests // threads,
    }
    log_level = env.get("LOG_LEVEL", "info").lower()

    def command(port: int | str) -> list[str]:
        return servers.uvicorn_command("bench.probe:create_app", port, plan.workers, log_level)

    with (
        ActivitySampler(url) as sampler,
        servers.running(
            command, {**env, "BENCH_PROBE_DIR": str(probe_dir)}, name="probe"
        ) as server,
    ):
        # Generous duration: the threads stop themselves after LIMIT responses each.
        load = wrk.run(
            server.url,
            "mixed",
            data,
            connections=connections,
            seconds=600,
            timeout_s=30,
            counted=True,
        )
    server_command = servers.shown(command("PORT"))
    workers = [json.loads(path.read_text()) for path in sorted(probe_dir.glob("*.json"))]
    if not workers:
        raise RuntimeError("the probed server wrote no counters")
    waits = sorted(w for worker in workers for w in worker["acquire_wait_ms"])
    usage = ConnectionUsage(
        load=load,
        pool_max=pool_max,
        workers=len(workers),
        peak_held=max(worker["peak_held"] for worker in workers),
        acquires=sum(worker["acquires"] for worker in workers),
        db_free_requests=sum(w["requests_by_kind"].get("db-free", 0) for w in workers),
        db_free_acquires=sum(w["acquires_by_kind"].get("db-free", 0) for w in workers),
        wait_p50_ms=_percentile(waits, 50),
        wait_p99_ms=_percentile(waits, 99),
        wait_max_ms=waits[-1] if waits else 0.0,
        held_at_shutdown=sum(worker["held"] for worker in workers),
        backends_peak=sampler.backends_peak,
        busy_backends_peak=sampler.busy_peak,
        per_worker=[{k: v for k, v in w.items() if k != "acquire_wait_ms"} for w in workers],
    )
    return usage, server_command


def _percentile(sorted_values: list[float], percent: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(percent / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]

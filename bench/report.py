"""The run's results as a console table, docs/benchmarks.md and docs/benchmarks.png."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.isolation import IsolationResult
from bench.phases import ConnectionUsage, LoginResult, Plan, SweepPoint
from bench.rounds import Rounds, spread

ME_RATIO_TARGET = 0.7
ME_P99_RATIO_TARGET = 2.0
LOGIN_RATIO_TARGET = 0.9
HEALTH_P99_TARGET_MS = 25.0
ISOLATION_SPEEDUP_TARGET = 5.0
ISOLATION_PER_TEST_TARGET_MS = 2.0


@dataclass(frozen=True)
class Run:
    plan: Plan
    quick: bool
    sweep: list[SweepPoint]
    login: LoginResult
    rounds: Rounds
    rss_after_mb: float
    savepoint: IsolationResult
    truncate: IsolationResult
    connections: ConnectionUsage
    settings: dict[str, str]
    machine: dict[str, str]
    load_before: str
    load_after: str
    commands: list[str]
    started: datetime

    @property
    def isolation_speedup(self) -> float:
        return self.truncate.isolation_per_test_ms / self.savepoint.isolation_per_test_ms


def _mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def targets(run: Run) -> list[tuple[str, str, str, str]]:
    """(measure, result, target, met) rows."""
    worst = min(run.sweep, key=lambda point: point.ratio)
    at_32 = next((p for p in run.sweep if p.concurrency == 32), worst)
    c = run.connections
    return [
        (
            "GET /users/me, project / ceiling (c=32)",
            f"{at_32.ratio:.2f}",
            f">= {ME_RATIO_TARGET}",
            _mark(at_32.ratio >= ME_RATIO_TARGET),
        ),
        (
            "GET /users/me, CPU per request ceiling / project (c=32)",
            f"{at_32.cpu_ratio:.2f}",
            f">= {ME_RATIO_TARGET}",
            _mark(at_32.cpu_ratio >= ME_RATIO_TARGET),
        ),
        (
            f"GET /users/me, lowest ratio (c={worst.concurrency})",
            f"{worst.ratio:.2f}",
            f">= {ME_RATIO_TARGET}",
            _mark(worst.ratio >= ME_RATIO_TARGET),
        ),
        (
            "Login throughput / bcrypt bound",
            f"{run.login.ratio:.2f}",
            f">= {LOGIN_RATIO_TARGET}",
            _mark(run.login.ratio >= LOGIN_RATIO_TARGET),
        ),
        (
            "/health p99 while logins saturate",
            f"{run.login.health.p99_ms:.1f} ms",
            f"< {HEALTH_P99_TARGET_MS:.0f} ms",
            _mark(run.login.health.p99_ms < HEALTH_P99_TARGET_MS),
        ),
        (
            "Isolation: TRUNCATE / SAVEPOINT overhead",
            f"{run.isolation_speedup:.1f}x",
            f">= {ISOLATION_SPEEDUP_TARGET:.0f}x",
            _mark(run.isolation_speedup >= ISOLATION_SPEEDUP_TARGET),
        ),
        (
            "Isolation: SAVEPOINT overhead per test",
            f"{run.savepoint.isolation_per_test_ms:.2f} ms",
            f"< {ISOLATION_PER_TEST_TARGET_MS:.0f} ms",
            _mark(run.savepoint.isolation_per_test_ms < ISOLATION_PER_TEST_TARGET_MS),
        ),
        (
            "Peak connections held per worker",
            f"{c.peak_held}",
            f"<= pool max {c.pool_max}",
            _mark(c.peak_held <= c.pool_max),
        ),
        (
            "Connections acquired by DB-free requests",
            f"{c.db_free_acquires} of {c.db_free_requests} requests",
            "0",
            _mark(c.db_free_acquires == 0),
        ),
        ("Pool acquire wait p99", f"{c.wait_p99_ms:.2f} ms", "reported", ""),
    ]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def sweep_rows(run: Run) -> list[list[str]]:
    return [
        [
            str(p.concurrency),
            f"{p.project.rps:,.0f}",
            f"{p.project.p50_ms:.2f}",
            f"{p.project.p99_ms:.2f}",
            f"{p.ceiling.rps:,.0f}",
            f"{p.ceiling.p50_ms:.2f}",
            f"{p.ceiling.p99_ms:.2f}",
            f"**{p.ratio:.2f}**",
            f"{p.project.cpu_us_per_request:.0f} / {p.ceiling.cpu_us_per_request:.0f}",
            f"{p.cpu_ratio:.2f}",
        ]
        for p in run.sweep
    ]


SWEEP_HEADER = [
    "connections",
    "project req/s",
    "p50 ms",
    "p99 ms",
    "ceiling req/s",
    "p50 ms",
    "p99 ms",
    "ratio",
    "server CPU µs/req, project / ceiling",
    "CPU ratio",
]


RATIO_HEADER = ["measure", "median", "per round", "target", ""]


def ratio_rows(run: Run) -> list[list[str]]:
    """The issue's figures from the interleaved rounds, each with its spread."""
    r, login = run.rounds, run.login
    rss = [x.project_rss_mb for x in r.rounds]
    return [
        [
            f"GET /users/me req/s, project / ceiling (c={r.connections})",
            f"**{r.rps_ratio:.2f}**",
            spread([x.rps_ratio for x in r.rounds]),
            f">= {ME_RATIO_TARGET}",
            _mark(r.rps_ratio >= ME_RATIO_TARGET),
        ],
        [
            "GET /users/me CPU per request, ceiling / project",
            f"{r.cpu_ratio:.2f}",
            spread([x.cpu_ratio for x in r.rounds]),
            f">= {ME_RATIO_TARGET}",
            _mark(r.cpu_ratio >= ME_RATIO_TARGET),
        ],
        [
            "GET /users/me p99, project / ceiling",
            f"**{r.p99_ratio:.2f}x**",
            spread([x.p99_ratio for x in r.rounds]),
            f"<= {ME_P99_RATIO_TARGET:.0f}x",
            _mark(r.p99_ratio <= ME_P99_RATIO_TARGET),
        ],
        [
            "Login throughput / bcrypt bound",
            f"**{login.ratio:.2f}**",
            "one run",
            f">= {LOGIN_RATIO_TARGET}",
            _mark(login.ratio >= LOGIN_RATIO_TARGET),
        ],
        [
            "/health p99 under the login storm",
            f"**{login.health.p99_ms:.1f} ms**",
            "one run",
            f"< {HEALTH_P99_TARGET_MS:.0f} ms",
            _mark(login.health.p99_ms < HEALTH_P99_TARGET_MS),
        ],
        [
            "worker RSS after each round (MB)",
            f"{run.rss_after_mb:.1f} after the sweep",
            spread(rss),
            "no growth across rounds",
            f"{r.rss_growth_mb:+.1f} MB",
        ],
    ]


def console(run: Run) -> str:
    lines = ["", "GET /api/v1/users/me: project vs ceiling", ""]
    lines += _table(SWEEP_HEADER, sweep_rows(run))
    lines += ["", "Targets", ""]
    lines += _table(["measure", "result", "target", ""], [list(row) for row in targets(run)])
    lines += ["", "Ratios (interleaved rounds)", ""]
    lines += _table(RATIO_HEADER, ratio_rows(run))
    return "\n".join(lines)


def markdown(run: Run, plot_name: str) -> str:
    login, c = run.login, run.connections
    out = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` ({'`--quick`, ' if run.quick else ''}"
        f"{run.started:%Y-%m-%d %H:%M} UTC). Do not edit by hand: rerun it. What the numbers "
        "mean, what each tuning bought and where the remaining time goes: "
        "[performance.md](performance.md).",
        "",
    ]
    busy = float(run.load_before.split("/")[0]) > 0.5
    if busy:
        out += [
            f"> **Measured on a busy machine** (load average {run.load_before} before the run, "
            f"{run.load_after} after; other test suites were running on the same 2 cores). "
            "Absolute numbers are low and noisy; the ratios, measured back to back in the "
            "same run, are the meaningful part. **A run on a quiet machine is still owed**: "
            "until then no target below counts as met on this evidence alone.",
            "",
        ]
    out += ["## Ratios", ""]
    out += [
        f"{run.rounds.connections} connections, {len(run.rounds.rounds)} rounds of "
        f"{run.plan.round_seconds:.0f} s, the project and the ceiling taking turns in each "
        "(the order alternates); median and every round's value. A ratio is only as good as "
        "its spread: on a loaded machine read the per-round values, not just the median.",
        "",
    ]
    out += _table(RATIO_HEADER, ratio_rows(run))
    out += ["", "## Targets", ""]
    out += _table(["measure", "result", "target", ""], [list(row) for row in targets(run)])
    out += [
        "",
        "## 1. GET /api/v1/users/me against the ceiling",
        "",
        "The ceiling is `bench/ceiling.py`: a bare ASGI app under the same uvicorn options doing "
        "the same work (python-jose decode with the same checks, the same SELECT through a pool "
        "opened by the project's own `Database`, the user as JSON). Tokens rotate over "
        f"{run.plan.users} seeded users. {run.plan.seconds:.0f} s per point after a "
        f"{run.plan.warmup_seconds:.0f} s warm-up; {run.plan.workers} uvicorn worker(s). "
        "*ratio* is project / ceiling throughput; *CPU ratio* is ceiling / project server CPU "
        "time per request, which background load moves much less.",
        "",
    ]
    out += _table(SWEEP_HEADER, sweep_rows(run))
    out += ["", f"![throughput and p99 against concurrency]({plot_name})", ""]
    out += [
        "## 2. Login against the bcrypt bound, and 3. /health meanwhile",
        "",
        f"One bcrypt verify at {login.rounds} rounds took {login.verify_ms:.1f} ms (median, "
        f"measured in this run); with {login.cores} cores the bound is "
        f"{login.cores} / {login.verify_ms / 1000:.4f} s = **{login.bound_per_s:.1f} logins/s**. "
        f"Cross-check: {login.cores} threads verifying at once in the bench process managed "
        f"{login.parallel_rate:.1f} verifies/s "
        f"({login.parallel_rate / login.bound_per_s:.2f} of the bound).",
        "",
    ]
    out += _table(
        ["load", "req/s", "p50 ms", "p99 ms", "max ms", "errors"],
        [
            [
                f"POST /api/v1/auth/login (c={4 * login.cores})",
                f"{login.login.rps:.1f}",
                f"{login.login.p50_ms:.1f}",
                f"{login.login.p99_ms:.1f}",
                f"{login.login.max_ms:.1f}",
                str(login.login.non_2xx_3xx + login.login.socket_errors),
            ],
            [
                "GET /health at the same time (c=2, 20 ms pause per request)",
                f"{login.health.rps:.0f}",
                f"{login.health.p50_ms:.2f}",
                f"{login.health.p99_ms:.2f}",
                f"{login.health.max_ms:.2f}",
                str(login.health.non_2xx_3xx + login.health.socket_errors),
            ],
        ],
    )
    out += [
        "",
        f"In the steady window ({login.steady.seconds:.1f} s that start once every bcrypt "
        "thread is busy and end before the load stops, counted by the server's own "
        f"`auth_logins_total`) the server completed {login.steady.logins:.0f} logins, "
        f"{login.steady.per_s:.2f}/s: **{login.ratio:.2f}** of the bound "
        f"({login.steady.per_s / login.parallel_rate:.2f} of the measured parallel verify "
        f"rate; wrk's average over the whole run, filling and draining included, is in the "
        f"table). The server spent {login.cpu_ms_per_login:.0f} ms of CPU per login in that "
        f"window (the /health probe included), against {login.verify_ms:.0f} ms for one "
        "verify: what it spends beyond bcrypt is small, so a gap to the bound is CPU the "
        "server did not get (the load generator, PostgreSQL, other processes).",
        "",
        "## 4. Test isolation cost",
        "",
        f"The same {run.savepoint.tests} database tests (`bench/isolation.py`: register a user "
        "through the repository with the same email each time, find it by email, record a "
        "login) isolated two ways. *Isolation* is the time spent in set-up and tear-down.",
        "",
    ]
    out += _table(
        ["isolation", "per test, total ms", "per test, isolation ms"],
        [
            [
                "SAVEPOINT per test inside one outer transaction (the suite's way)",
                f"{run.savepoint.per_test_ms:.2f}",
                f"{run.savepoint.isolation_per_test_ms:.3f}",
            ],
            [
                "real commits, TRUNCATE of every table after each test",
                f"{run.truncate.per_test_ms:.2f}",
                f"{run.truncate.isolation_per_test_ms:.3f}",
            ],
        ],
    )
    out += [
        "",
        f"SAVEPOINT isolation is **{run.isolation_speedup:.1f}x** cheaper per test "
        f"({run.truncate.per_test_ms / run.savepoint.per_test_ms:.1f}x counting the whole test).",
        "",
        "## 5. Connection usage",
        "",
        f"{c.load.requests:,} mixed requests at concurrency 64 in {c.load.seconds:.1f} s "
        f"against the project app wrapped by `bench/probe.py` (counters around the pool; the "
        f"app's code unchanged): per 100 requests 62 GET /users/me, 24 GET /health, 6 with an "
        f"invalid token, 5 to an unknown route, 2 GET /ready, 1 login. Status counts: "
        + ", ".join(f"{code}: {n:,}" for code, n in sorted(c.load.statuses.items()))
        + ".",
        "",
    ]
    out += _table(
        ["measure", "value"],
        [
            ["pool max size (per worker)", str(c.pool_max)],
            ["peak connections held (any worker)", f"**{c.peak_held}**"],
            ["connections held at shutdown", str(c.held_at_shutdown)],
            ["acquires in total", f"{c.acquires:,}"],
            [
                "acquires by DB-free requests",
                f"**{c.db_free_acquires}** (of {c.db_free_requests:,} such requests)",
            ],
            [
                "pool acquire wait p50 / p99 / max",
                f"{c.wait_p50_ms:.2f} / **{c.wait_p99_ms:.2f}** / {c.wait_max_ms:.1f} ms",
            ],
            [
                "peak app backends in pg_stat_activity (all workers) / busy",
                f"{c.backends_peak} / {c.busy_backends_peak}",
            ],
        ],
    )
    out += ["", "## Machine and settings", ""]
    out += _table(["", ""], [[k, v] for k, v in run.machine.items()])
    out += [
        "",
        f"Load average (1/5/15 min): {run.load_before} before, {run.load_after} after.",
        "",
        "Server environment: " + ", ".join(f"`{k}={v}`" for k, v in run.settings.items()) + ".",
        "",
        "## Commands",
        "",
        "```",
        *run.commands,
        "```",
        "",
    ]
    return "\n".join(out)


def plot(run: Run, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [p.concurrency for p in run.sweep]
    fig, (left, right, rounds_axis) = plt.subplots(1, 3, figsize=(15, 4.2))
    left.plot(xs, [p.project.rps for p in run.sweep], "o-", label="project")
    left.plot(xs, [p.ceiling.rps for p in run.sweep], "s--", label="ceiling (raw ASGI)")
    left.set(xlabel="concurrent connections", ylabel="requests/s", title="Throughput")
    right.plot(xs, [p.project.p99_ms for p in run.sweep], "o-", label="project")
    right.plot(xs, [p.ceiling.p99_ms for p in run.sweep], "s--", label="ceiling (raw ASGI)")
    right.set(xlabel="concurrent connections", ylabel="p99 latency (ms)", title="p99 latency")
    numbers = list(range(1, len(run.rounds.rounds) + 1))
    rounds_axis.plot(numbers, [r.project.p99_ms for r in run.rounds.rounds], "o-", label="project")
    rounds_axis.plot(
        numbers, [r.ceiling.p99_ms for r in run.rounds.rounds], "s--", label="ceiling (raw ASGI)"
    )
    rounds_axis.set(
        xlabel="round",
        ylabel="p99 latency (ms)",
        title=f"p99 per interleaved round (c={run.rounds.connections})",
    )
    rounds_axis.set_xticks(numbers)
    rounds_axis.set_ylim(bottom=0)
    rounds_axis.grid(alpha=0.3)
    rounds_axis.legend()
    for axis in (left, right):
        axis.set_xscale("log", base=2)
        axis.set_xticks(xs, [str(x) for x in xs])
        axis.grid(alpha=0.3)
        axis.legend()
    left.set_ylim(bottom=0)
    right.set_ylim(bottom=0)
    fig.suptitle("GET /api/v1/users/me: project vs ceiling")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def now() -> datetime:
    return datetime.now(UTC)

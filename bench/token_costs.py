"""`python -m bench.token_costs [--rounds N]`: what one access-token signature and one
verification cost under each JWT_ALGORITHM, through the codec the server uses.

Verification is the full uncached path (header check, key by kid, signature, claims); the
server pays it once per token and then hits its cache of verified tokens. The algorithms
take turns in every round, so background load on this shared machine hits them alike;
the report gives the median round and each algorithm's ratio to HS256.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from app.core.keys import KeyRing, generate_private_key, load_key_file
from app.core.tokens import AccessClaims, TokenCodec

SECRET = "bench-secret-0123456789-0123456789-0123456789"  # noqa: S105 (a bench constant)


# Any user and session: signing and verifying cost the same for all.
CLAIMS = AccessClaims(user_id=uuid.UUID(int=1), session_id=uuid.UUID(int=2))


def codecs(directory: Path) -> dict[str, TokenCodec]:
    rings = {name: KeyRing.shared_secret(SECRET, name) for name in ("HS256", "HS384", "HS512")}
    for label, algorithm in (("ES256", "ES256"), ("RS256 (3072 bits)", "RS256")):
        path = directory / f"{algorithm}.pem"
        path.write_bytes(generate_private_key(algorithm)[0])
        os.chmod(path, 0o600)
        rings[label] = KeyRing(load_key_file(path, algorithm, signs=True))
    return {
        label: TokenCodec(keys=ring, expires_minutes=15, issuer="bench", audience="bench")
        for label, ring in rings.items()
    }


def per_call_us(operation: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        operation()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.token_costs", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=500, help="operations per timing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        by_label = codecs(Path(directory))
    sign: dict[str, list[float]] = {label: [] for label in by_label}
    verify: dict[str, list[float]] = {label: [] for label in by_label}
    for _ in range(args.rounds):
        for label, codec in by_label.items():
            token = codec.issue(CLAIMS).token
            sign[label].append(per_call_us(functools.partial(codec.issue, CLAIMS), args.calls))
            # _decode: the full verification, past the cache that claims() consults first
            decode = functools.partial(codec._decode, token)
            verify[label].append(per_call_us(decode, args.calls))
    base_sign = statistics.median(sign["HS256"])
    base_verify = statistics.median(verify["HS256"])
    print(f"median of {args.rounds} interleaved rounds, {args.calls} calls each (µs per call)")
    print(f"{'algorithm':<20}{'sign':>10}{'/HS256':>9}{'verify':>10}{'/HS256':>9}")
    for label in by_label:
        s, v = statistics.median(sign[label]), statistics.median(verify[label])
        print(f"{label:<20}{s:>10.1f}{s / base_sign:>9.1f}{v:>10.1f}{v / base_verify:>9.1f}")


if __name__ == "__main__":
    main()

"""Garbage collection tuned for a long-running request server (docs/performance.md).

After start-up everything alive (modules, the app, the pool, caches) stays alive: frozen,
the collector never traverses it again. Each request leaves some cyclic garbage (frames,
futures, exceptions); CPython's default young-generation threshold (700 allocations)
collects it dozens of times a second under load, and each collection of an older
generation walks every tracked object. The thresholds below were chosen by measuring
GET /users/me against the ceiling in interleaved rounds; the table is in the notes.
"""

from __future__ import annotations

import gc
from typing import Final

THRESHOLDS: Final = (10_000, 10, 10)


def tune_after_start_up() -> None:
    """Call once the app is ready to serve: collect, freeze what is left, raise thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)

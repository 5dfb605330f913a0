"""TEMPORARY shim for merging the other branches, to be removed after: import from
tests.support.replication instead (tests/test_imports.py says where each name lives now)."""

from tests.support.polling import EVENTUALLY_SECONDS, eventually
from tests.support.replication import (
    Replicated,
    basebackup_missing,
    in_recovery,
    set_replay_paused,
    streaming_replica,
    wait_for_replay,
)

__all__ = [
    "EVENTUALLY_SECONDS",
    "Replicated",
    "basebackup_missing",
    "eventually",
    "in_recovery",
    "set_replay_paused",
    "streaming_replica",
    "wait_for_replay",
]

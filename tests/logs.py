"""TEMPORARY shim for merging the other branches, to be removed after: import from
tests.support.logs instead (tests/test_imports.py says where each name lives now)."""

from tests.support.logs import Captured, captured_logs

__all__ = ["Captured", "captured_logs"]

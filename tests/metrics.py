"""TEMPORARY shim for merging the other branches, to be removed after: import from
tests.support.metrics instead (tests/test_imports.py says where each name lives now)."""

from tests.support.metrics import Samples, scrape

__all__ = ["Samples", "scrape"]

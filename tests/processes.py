"""TEMPORARY shim for merging the other branches, to be removed after: import from
tests.support.processes instead (tests/test_imports.py says where each name lives now)."""

from tests.support.processes import app_environment, served

__all__ = ["app_environment", "served"]

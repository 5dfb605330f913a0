"""TEMPORARY, for merging the other branches, to be removed after: `serving` lives in
tests.support.http now."""

from tests.support.http import serving

__all__ = ["serving"]

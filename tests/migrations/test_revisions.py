"""The revision graph itself: one line, readable ids, documented downgrades."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.script import ScriptDirectory

from tests.support.database import ROOT, alembic_config
from tests.support.migrations import revisions

VERSIONS = ROOT / "alembic" / "versions"


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("unused"))


def test_single_head() -> None:
    assert len(script().get_heads()) == 1


def test_revision_ids_sort_by_date_in_order_of_the_chain() -> None:
    ids = revisions()
    assert ids == sorted(ids)
    assert all(re.fullmatch(r"\d{8}_\d{4}", rev) for rev in ids), ids


def test_file_names_start_with_their_revision_id() -> None:
    for revision in script().walk_revisions():
        assert revision.path is not None
        assert Path(revision.path).name.startswith(f"{revision.revision}_"), revision.path


def test_every_revision_says_what_its_downgrade_drops() -> None:
    """The README's rollback procedure points operators at this line."""
    for revision in script().walk_revisions():
        assert "Downgrade drops:" in (revision.module.__doc__ or ""), revision.path

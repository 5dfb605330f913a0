"""Account administration, for admins (app/api/routes/admin_users.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from app.api.schemas.fields import PLAIN_TEXT, plain_text
from app.api.schemas.users import UserOut
from app.core.emails import MAX_EMAIL_CHARS

# The listing's filters: the prefix is matched on the normalised email (no NUL: the
# database could not compare it), and the cursor is opaque: decoded by the service.
EmailPrefix = Annotated[
    str,
    Field(max_length=MAX_EMAIL_CHARS, json_schema_extra=PLAIN_TEXT),
    AfterValidator(plain_text),
]
PageCursor = Annotated[str, Field(max_length=64, json_schema_extra=PLAIN_TEXT)]


class UserPageOut(BaseModel):
    items: list[UserOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )

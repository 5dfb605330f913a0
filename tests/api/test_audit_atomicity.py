"""A change never commits without its audit event: here the login's own COMMIT fails (a
deferred constraint trigger refuses the event at commit), so the session, the last login
and the event are all absent, on a database with real commits."""

from __future__ import annotations

import asyncpg

from tests.support.http import assert_envelope, client_for, live_app, register
from tests.support.settings import TEST_PASSWORD

REFUSE_AT_COMMIT = """
CREATE FUNCTION refuse_login_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'refused at commit';
END $$;
CREATE CONSTRAINT TRIGGER refuse_login_event AFTER INSERT ON audit_events
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.type = 'login')
EXECUTE FUNCTION refuse_login_event();
"""
REMOVE = """
DROP TRIGGER refuse_login_event ON audit_events;
DROP FUNCTION refuse_login_event();
"""


async def test_a_login_whose_commit_fails_leaves_no_session_and_no_event(
    own_database: str,
) -> None:
    owner = await asyncpg.connect(own_database)
    try:
        async with (
            live_app(own_database, log_level="WARNING") as application,
            client_for(application) as http,
        ):
            user = await register(http)
            await owner.execute(REFUSE_AT_COMMIT)
            try:
                response = await http.post(
                    "/api/v1/auth/login",
                    json={"email": "ada@example.com", "password": TEST_PASSWORD},
                )
            finally:
                await owner.execute(REMOVE)
        assert_envelope(response, 503, "ServiceUnavailableError")
        state = await owner.fetchrow(
            "SELECT (SELECT count(*) FROM sessions WHERE user_id = $1) AS sessions,"
            " (SELECT count(*) FROM refresh_tokens WHERE user_id = $1) AS tokens,"
            " (SELECT last_login FROM users WHERE id = $1) AS last_login,"
            " (SELECT count(*) FROM audit_events WHERE type = 'login') AS events",
            user["id"],
        )
        assert state is not None
        assert dict(state) == {"sessions": 0, "tokens": 0, "last_login": None, "events": 0}
    finally:
        await owner.close()

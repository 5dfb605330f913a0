"""AuthService and UserService on the real repository and database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import anyio
import asyncpg
import pytest

from app.core.errors import (
    AuthenticationError,
    AuthorizationError,
    ServiceUnavailableError,
    ValidationError,
)
from app.core.keys import KeyRing
from app.core.passwords import PasswordHasher
from app.core.tokens import TokenCodec
from app.db.uow import UnitOfWork
from app.services.auth import INVALID_CREDENTIALS, AuthService, LoginPolicy
from app.services.users import UserService
from tests.support.settings import TEST_PASSWORD, TEST_ROUNDS

EMAIL = "linus@example.com"
ADDRESS = "198.51.100.7"
POLICY = LoginPolicy(
    max_failures=50,
    max_failures_per_address=500,
    window_seconds=900,
    refresh_token_ttl=timedelta(days=14),
)


@pytest.fixture
def tokens() -> TokenCodec:
    keys = KeyRing.shared_secret("s" * 40, "HS256")
    return TokenCodec(keys=keys, expires_minutes=15, issuer="i", audience="a")


@pytest.fixture
def users(hasher: PasswordHasher) -> UserService:
    return UserService(hasher=hasher)


@pytest.fixture
def auth(hasher: PasswordHasher, tokens: TokenCodec) -> AuthService:
    return AuthService(hasher=hasher, tokens=tokens, policy=POLICY)


async def test_register_stores_a_bcrypt_hash_not_the_password(
    uow: UnitOfWork, users: UserService
) -> None:
    user = await users.register(uow, email=EMAIL, password=TEST_PASSWORD)
    assert user.password_hash.startswith("$2b$") and TEST_PASSWORD not in user.password_hash


@pytest.mark.parametrize("password", ["short", "é" * 37])  # 7 chars; 74 UTF-8 bytes
async def test_register_refuses_passwords_outside_the_rules(
    uow: UnitOfWork, users: UserService, password: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await users.register(uow, email=EMAIL, password=password)
    assert caught.value.details[0]["field"] == "password"
    assert password not in str(caught.value.details)


async def test_login_updates_last_login_and_issues_a_token_for_the_user(
    uow: UnitOfWork, users: UserService, auth: AuthService
) -> None:
    created = await users.register(uow, email=EMAIL, password=TEST_PASSWORD)
    result = await auth.login(
        uow, email=EMAIL.upper(), password=TEST_PASSWORD, client_address=ADDRESS
    )
    assert result.user.id == created.id and result.user.last_login is not None
    assert (await auth.authenticate(uow, result.access.token)).user.id == created.id


async def test_login_issues_a_refresh_token_and_the_password_form_none(
    uow: UnitOfWork, conn: asyncpg.Connection, users: UserService, auth: AuthService
) -> None:
    await users.register(uow, email=EMAIL, password=TEST_PASSWORD)
    pair = await auth.login(uow, email=EMAIL, password=TEST_PASSWORD, client_address=ADDRESS)
    form = await auth.login_for_token(
        uow, email=EMAIL, password=TEST_PASSWORD, client_address=ADDRESS
    )
    assert not hasattr(form, "refresh_token")
    pair_session, form_session = [
        (await auth.authenticate(uow, result.access.token)).claims.session_id
        for result in (pair, form)
    ]
    assert pair_session != form_session  # each opened a session of its own
    counted = await conn.fetch("SELECT session_id, count(*) FROM refresh_tokens GROUP BY 1")
    assert {row[0]: row[1] for row in counted} == {
        pair_session: 1
    }  # the form's session has no refresh token


async def test_unknown_email_and_wrong_password_fail_identically(
    uow: UnitOfWork, users: UserService, auth: AuthService
) -> None:
    await users.register(uow, email=EMAIL, password=TEST_PASSWORD)
    failures = []
    for email, password in [(EMAIL, "wrong password"), ("nobody@example.com", TEST_PASSWORD)]:
        with pytest.raises(AuthenticationError) as caught:
            await auth.login(uow, email=email, password=password, client_address=ADDRESS)
        failures.append((type(caught.value), caught.value.message))
    assert failures[0] == failures[1] == (AuthenticationError, INVALID_CREDENTIALS)


@pytest.mark.parametrize("password", ["", "x", "p" * 73, "é" * 40])
async def test_passwords_outside_the_rules_are_plain_failed_logins(
    uow: UnitOfWork, users: UserService, auth: AuthService, password: str
) -> None:
    await users.register(uow, email=EMAIL, password=TEST_PASSWORD)
    with pytest.raises(AuthenticationError):
        await auth.login(uow, email=EMAIL, password=password, client_address=ADDRESS)


async def test_nfkc_equivalent_passwords_match(
    uow: UnitOfWork, users: UserService, auth: AuthService
) -> None:
    await users.register(uow, email=EMAIL, password="ﬁre-and-ice")  # "ﬁ" ligature
    result = await auth.login(uow, email=EMAIL, password="fire-and-ice", client_address=ADDRESS)
    assert result.user.email == EMAIL


async def test_inactive_user_cannot_log_in(
    uow: UnitOfWork, users: UserService, auth: AuthService
) -> None:
    user = await users.register(uow, email=EMAIL, password=TEST_PASSWORD)
    await uow.users.set_active(user.id, False)
    with pytest.raises(AuthorizationError):
        await auth.login(uow, email=EMAIL, password=TEST_PASSWORD, client_address=ADDRESS)


async def test_outdated_hash_is_rehashed_on_login(
    uow: UnitOfWork, users: UserService, tokens: TokenCodec
) -> None:
    user = await users.register(uow, email=EMAIL, password=TEST_PASSWORD)
    stronger = AuthService(
        hasher=PasswordHasher(rounds=TEST_ROUNDS + 1), tokens=tokens, policy=POLICY
    )
    await stronger.login(uow, email=EMAIL, password=TEST_PASSWORD, client_address=ADDRESS)
    stored = await uow.users.get_by_id(user.id)
    assert stored is not None
    assert stored.password_hash != user.password_hash
    assert stored.password_hash.startswith(f"$2b${TEST_ROUNDS + 1:02d}$")


async def test_database_outage_during_login_is_unavailable_not_bad_credentials(
    unreachable_pool: asyncpg.Pool, auth: AuthService
) -> None:
    uow = UnitOfWork(unreachable_pool, acquire_timeout=1)
    with pytest.raises(ServiceUnavailableError) as caught:
        await auth.login(uow, email=EMAIL, password=TEST_PASSWORD, client_address=ADDRESS)
    assert caught.value.status_code == 503


async def test_login_holds_no_connection_while_checking_the_password(
    own_database: str, tokens: TokenCodec
) -> None:
    """Logins queue for bcrypt threads: they must not keep a pool connection meanwhile."""
    hashing_threads = anyio.CapacityLimiter(1)
    hasher = PasswordHasher(rounds=TEST_ROUNDS, limiter=hashing_threads)
    auth = AuthService(hasher=hasher, tokens=tokens, policy=POLICY)
    async with asyncpg.create_pool(own_database, min_size=1, max_size=1) as pool:
        setup = UnitOfWork(pool, acquire_timeout=2)
        await UserService(hasher=hasher).register(setup, email=EMAIL, password=TEST_PASSWORD)
        await setup.close()
        uow = UnitOfWork(pool, acquire_timeout=2)
        async with hashing_threads:  # every hashing thread busy: the login waits for one
            login = asyncio.create_task(
                auth.login(uow, email=EMAIL, password=TEST_PASSWORD, client_address=ADDRESS)
            )
            async with asyncio.timeout(5):
                while hashing_threads.statistics().tasks_waiting == 0:  # noqa: ASYNC110 (no event to wait on)
                    await asyncio.sleep(0.01)
            held_while_waiting = uow.holds_connection
            idle_while_waiting = pool.get_idle_size()
        result = await asyncio.wait_for(login, 5)
        await uow.close()
    assert not held_while_waiting and idle_while_waiting == 1
    assert result.user.last_login is not None

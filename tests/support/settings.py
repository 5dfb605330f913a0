"""Settings for an app under test: fast bcrypt, a fixed secret, small pools."""

from __future__ import annotations

from typing import Any

from app.core.settings import Settings

TEST_PASSWORD = "correct horse battery"
TEST_ROUNDS = 4  # bcrypt's minimum: the suite is about behaviour, not hash strength


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": "postgresql://unused@127.0.0.1:1/unused",
        "jwt_secret": "test-secret-that-is-long-enough-for-hs256-0123456789",
        "bcrypt_rounds": TEST_ROUNDS,
        "db_pool_min_size": 1,
        "db_pool_max_size": 4,
        "db_acquire_timeout_seconds": 2.0,
        "gc_tuning": False,  # a process that builds many apps must not freeze each one's objects
        # Tests register many users from one address; test_registration_limit.py sets it.
        "register_max_per_address": 10_000,
        "mail_poll_seconds": 0.1,  # tests wait for mail: notice it at once
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)

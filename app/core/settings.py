"""Configuration from the environment (and `.env`), with the names fixed in DESIGN.md."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.keys import HMAC_ALGORITHMS, KeyFileError, KeyRing, TokenKey, load_key_file

# Values that show a secret was copied from an example instead of set for real.
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder")


class ConfigError(Exception):
    """A setting makes start-up impossible; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # production unless told otherwise: a process started with nothing set fails closed.
    app_env: Literal["development", "test", "production"] = "production"

    # SecretStr: URLs carry passwords; repr(), str() and logs show "**********".
    database_url: SecretStr | None = None
    # The schema owner's URL for `db` commands (migrate, check, prune); unset: DATABASE_URL.
    # Lets the server run as a role with DML grants only (docs/operations.md, "Two roles").
    migration_database_url: SecretStr | None = None
    database_replica_urls: SecretStr = SecretStr("")
    # A replica further behind than this takes no reads until it catches up.
    db_replica_max_lag_seconds: float = Field(default=5.0, gt=0)
    db_replica_check_interval_seconds: float = Field(default=1.0, gt=0)
    db_pool_min_size: int = Field(default=2, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    db_acquire_timeout_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=5000, ge=0)
    # Monitoring thresholds; 0 turns the log line (and its counter) off.
    db_slow_query_ms: int = Field(default=200, ge=0)
    db_connection_hold_warn_seconds: float = Field(default=5.0, ge=0)

    # No default: production refuses to start without it (under HS*); development generates
    # one once and keeps it beside the local data directory (app.core.dev_secret).
    jwt_secret: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512", "ES256", "RS256"] = "HS256"
    jwt_expires_minutes: int = Field(default=15, ge=1)
    jwt_issuer: str = "auth-service"
    jwt_audience: str = "auth-service"

    bcrypt_rounds: int = Field(default=12, ge=4, le=31)

    log_level: str = "INFO"
    log_format: Literal["json", "console"] | None = None
    sentry_dsn: SecretStr | None = None  # its key is a credential
    sentry_release: str | None = None  # default: auth-service@<package version>
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)

    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_max_failures_per_address: int = Field(default=100, ge=1)
    # Each rotation issues a token valid this long; an unused family expires after it.
    refresh_token_expires_days: int = Field(default=14, ge=1)

    # Key pairs (ES256/RS256): a PEM private key signs; earlier keys (private or public
    # PEMs, comma separated) still verify. Loaded and checked when the settings are built,
    # so a bad file stops start-up, not the first login.
    jwt_signing_key_file: Path | None = None
    jwt_verify_key_files: str = ""
    # Where clients reach us (discovery's absolute URLs); unset: each request's base URL.
    public_base_url: str | None = None
    # Performance (issue 13): collect, freeze and raise the GC thresholds once the served
    # app has started (app/core/gc_tuning.py). Off in the test suite, which builds many apps.
    gc_tuning: bool = True
    _key_ring: KeyRing | None = PrivateAttr(default=None)

    # Scale-out (docs/scaling.md). pgbouncer: PgBouncer in transaction pooling mode sits
    # between every pool and its server, so connections carry no session state.
    database_pooler: Literal["none", "pgbouncer"] = "none"

    # --- Account recovery, email verification, the mail outbox (docs/operations.md) ---
    password_reset_token_minutes: int = Field(default=30, ge=1)
    email_verify_token_hours: int = Field(default=48, ge=1)
    # The pages the mails link to (your frontend); `?token=...` is appended.
    password_reset_url: str = "http://127.0.0.1:8000/reset-password"  # noqa: S105 (a URL)
    email_verify_url: str = "http://127.0.0.1:8000/verify-email"
    require_verified_email: bool = False
    # smtp://[user:pass@]host:port[?starttls=true] or smtps://...; unset: development logs
    # mails, production keeps them queued (and warns at start-up).
    smtp_url: SecretStr | None = None
    mail_from: str = "auth-service <no-reply@localhost>"
    mail_worker: bool = True  # the server runs an outbox worker in its lifespan
    # Silent throttles (the answer stays 202): reset mails per account and reset mails
    # requested from one client address, each per hour; the per-account one also bounds
    # verification re-sends.
    password_reset_max_per_hour: int = Field(default=3, ge=1)
    password_reset_max_per_address: int = Field(default=20, ge=1)
    # Delivery: attempts before a mail is dead, and the cap on the backoff between them.
    mail_max_attempts: int = Field(default=10, ge=1)
    mail_retry_max_seconds: float = Field(default=300.0, gt=0)
    # How often an idle outbox worker looks for committed mail: a mail's latency at most,
    # against one small query per interval per worker.
    mail_poll_seconds: float = Field(default=1.0, gt=0, le=60)

    @field_validator("smtp_url", mode="before")
    @classmethod
    def _empty_smtp_url_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    # --- Abuse resistance (issue 12) ---
    # A client address that logged in to an account successfully within this many days is
    # a known client of it: failures from elsewhere do not lock it out (docs/security.md).
    login_known_client_days: int = Field(default=30, ge=1)
    # Registrations per client address per window, then 429 (each costs a bcrypt hash).
    register_max_per_address: int = Field(default=10, ge=1)
    register_window_seconds: int = Field(default=3600, ge=1)
    # bcrypt jobs waiting or running per process; past it a quick 503 (load shedding).
    bcrypt_max_queue: int = Field(default=64, ge=1)

    # Sessions (issue 11): a session ends this long after its login, however often it is
    # refreshed; the refresh token's own expiry above stays the idle limit.
    session_max_age_days: int = Field(default=30, ge=1)

    # Audit trail (issue 17): `db prune` deletes events older than this, as its own step
    # (--older-than does not reach them).
    audit_retention_days: int = Field(default=365, ge=1)

    @field_validator(
        "database_url",
        "migration_database_url",
        "jwt_secret",
        "sentry_dsn",
        "sentry_release",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("jwt_signing_key_file", "public_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_base_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigError("PUBLIC_BASE_URL must be an absolute http(s) URL without a query")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _fit_for_production(self) -> Self:
        """Production refuses a missing or copied-from-example DATABASE_URL, and a JWT_SECRET
        that is a placeholder or short. A missing JWT_SECRET is refused where tokens are
        signed (app.db.urls.resolve_jwt_secret, for the server), so commands that sign
        nothing (migrations, user admin, the mail worker) run without one."""
        if self.app_env != "production":
            return self
        url = "" if self.database_url is None else self.database_url.get_secret_value()
        if _is_placeholder(url):
            raise ConfigError("DATABASE_URL must be set to a real database URL in production")
        if self.jwt_algorithm not in HMAC_ALGORITHMS:
            return self  # a key pair signs: JWT_SECRET is unused (no token signed with it passes)
        if self.jwt_secret is None:
            return self  # refused where a token is signed: see above
        secret = self.jwt_secret.get_secret_value()
        if _is_placeholder(secret):
            raise ConfigError("JWT_SECRET must be set to a real secret in production")
        if len(secret) < 32:
            raise ConfigError("JWT_SECRET must be at least 32 characters in production")
        return self

    @model_validator(mode="after")
    def _load_key_files(self) -> Self:
        if self.jwt_algorithm in HMAC_ALGORITHMS:
            if self.jwt_signing_key_file is not None or self.verify_key_paths:
                raise ConfigError(
                    "JWT_SIGNING_KEY_FILE and JWT_VERIFY_KEY_FILES need JWT_ALGORITHM ES256 "
                    f"or RS256, not {self.jwt_algorithm}"
                )
            return self
        if self.jwt_signing_key_file is None:
            raise ConfigError(
                f"JWT_SIGNING_KEY_FILE must name a PEM private key under {self.jwt_algorithm}"
            )
        signing = self._key_file("JWT_SIGNING_KEY_FILE", self.jwt_signing_key_file, signs=True)
        verifying = [
            self._key_file("JWT_VERIFY_KEY_FILES", path, signs=False)
            for path in self.verify_key_paths
        ]
        self._key_ring = KeyRing(signing, verifying)
        return self

    def _key_file(self, variable: str, path: Path, *, signs: bool) -> TokenKey:
        try:
            return load_key_file(path, self.jwt_algorithm, signs=signs)
        except KeyFileError as exc:
            raise ConfigError(f"{variable}: {path} {exc}") from None

    @property
    def verify_key_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.jwt_verify_key_files.split(",") if p.strip()]

    def token_keys(self) -> KeyRing:
        """The key files' ring under ES256/RS256; under HS* the shared JWT_SECRET."""
        if self._key_ring is not None:
            return self._key_ring
        return KeyRing.shared_secret(self.jwt_secret_value, self.jwt_algorithm)

    @property
    def replica_urls(self) -> list[str]:
        urls = self.database_replica_urls.get_secret_value().split(",")
        return [url.strip() for url in urls if url.strip()]

    @property
    def jwt_secret_value(self) -> str:
        if self.jwt_secret is None:
            raise ConfigError("JWT_SECRET must be set")
        return self.jwt_secret.get_secret_value()

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.app_env == "production" else "console"


def _is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return not lowered or any(marker in lowered for marker in _PLACEHOLDER_MARKERS)

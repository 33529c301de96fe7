"""Settings from the environment (`SETS_` prefix); every one is documented in the README."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sets.domain import attachments

DEFAULT_SECRET = "dev-insecure-secret-change-me-0123456789abcdef"


class ConfigError(RuntimeError):
    pass


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _types(env: dict[str, str], name: str, default: frozenset[str]) -> frozenset[str]:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return attachments.parse_types(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from exc


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./sets.db"
    redis_url: str | None = None
    jwt_secret: str = DEFAULT_SECRET
    env: str = "development"
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    data_dir: Path = field(default_factory=lambda: Path("./data"))
    smtp_url: str | None = None
    slack_webhook_url: str | None = None
    mail_from: str = "SETS <sets@localhost>"
    notify_max_attempts: int = 5
    notify_backoff_seconds: float = 30.0
    notify_lease_seconds: int = 300
    ticket_key_prefix: str = "SETS"
    max_query_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_page_size: int = 100
    redis_prefix: str = "sets:"
    subscriber_queue_size: int = 1000
    ws_recheck_seconds: float = 30.0
    auto_close_days: int = 3
    sla_interval_seconds: int = 60
    attachment_max_bytes: int = attachments.DEFAULT_MAX_BYTES
    attachment_types: frozenset[str] = attachments.DEFAULT_TYPES
    attachment_max_files: int = attachments.DEFAULT_MAX_FILES

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def attachment_policy(self) -> attachments.AttachmentPolicy:
        return attachments.AttachmentPolicy(
            max_bytes=self.attachment_max_bytes,
            allowed_types=self.attachment_types,
            max_files=self.attachment_max_files,
        )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        get = env.get
        settings = cls(
            database_url=get("SETS_DATABASE_URL") or cls.database_url,
            redis_url=get("SETS_REDIS_URL") or None,
            jwt_secret=get("SETS_JWT_SECRET") or DEFAULT_SECRET,
            env=get("SETS_ENV") or "development",
            access_token_minutes=_int(env, "SETS_ACCESS_TOKEN_MINUTES", 15),
            refresh_token_days=_int(env, "SETS_REFRESH_TOKEN_DAYS", 14),
            data_dir=Path(get("SETS_DATA_DIR") or "./data"),
            smtp_url=get("SETS_SMTP_URL") or None,
            slack_webhook_url=get("SETS_SLACK_WEBHOOK_URL") or None,
            mail_from=get("SETS_MAIL_FROM") or cls.mail_from,
            notify_max_attempts=_int(env, "SETS_NOTIFY_MAX_ATTEMPTS", 5),
            notify_backoff_seconds=_float(env, "SETS_NOTIFY_BACKOFF_SECONDS", 30.0),
            notify_lease_seconds=_int(env, "SETS_NOTIFY_LEASE_SECONDS", 300),
            max_query_depth=_int(env, "SETS_MAX_QUERY_DEPTH", 10),
            max_aliases=_int(env, "SETS_MAX_ALIASES", 15),
            max_tokens=_int(env, "SETS_MAX_TOKENS", 2000),
            redis_prefix=get("SETS_REDIS_PREFIX") or "sets:",
            subscriber_queue_size=_int(env, "SETS_SUBSCRIBER_QUEUE_SIZE", 1000),
            ws_recheck_seconds=_int(env, "SETS_WS_RECHECK_SECONDS", 30),
            auto_close_days=_int(env, "SETS_AUTO_CLOSE_DAYS", 3),
            sla_interval_seconds=_int(env, "SETS_SLA_INTERVAL_SECONDS", 60),
            attachment_max_bytes=_int(
                env, "SETS_ATTACHMENT_MAX_BYTES", attachments.DEFAULT_MAX_BYTES
            ),
            attachment_types=_types(env, "SETS_ATTACHMENT_TYPES", attachments.DEFAULT_TYPES),
            attachment_max_files=_int(
                env, "SETS_ATTACHMENT_MAX_FILES", attachments.DEFAULT_MAX_FILES
            ),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.env not in ("development", "production"):
            raise ConfigError("SETS_ENV must be 'development' or 'production'")
        if self.subscriber_queue_size < 1 or self.ws_recheck_seconds <= 0:
            raise ConfigError(
                "SETS_SUBSCRIBER_QUEUE_SIZE and SETS_WS_RECHECK_SECONDS must be positive"
            )
        if self.smtp_url and not self.smtp_url.startswith(("smtp://", "smtps://")):
            raise ConfigError("SETS_SMTP_URL must look like smtp://host:port or smtps://host")
        if (
            self.notify_max_attempts < 1
            or self.notify_backoff_seconds < 0
            or self.notify_lease_seconds < 1
        ):
            raise ConfigError(
                "SETS_NOTIFY_MAX_ATTEMPTS and SETS_NOTIFY_LEASE_SECONDS must be positive, "
                "SETS_NOTIFY_BACKOFF_SECONDS not negative"
            )
        if self.attachment_max_bytes < 1 or self.attachment_max_files < 1:
            raise ConfigError(
                "SETS_ATTACHMENT_MAX_BYTES and SETS_ATTACHMENT_MAX_FILES must be positive"
            )
        if self.production and (self.jwt_secret == DEFAULT_SECRET or len(self.jwt_secret) < 32):
            raise ConfigError(
                "refusing to start in production with the default or a short SETS_JWT_SECRET "
                "(use at least 32 random characters)"
            )

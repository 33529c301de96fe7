"""Limits on what people type, checked before anything is written."""

from __future__ import annotations

import re

from sets.domain.errors import ValidationFailed

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 20_000
REASON_MAX = 2_000
NAME_MAX = 120
PASSWORD_MIN = 8
_EMAIL = re.compile(r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


def text(value: str | None, *, field: str, max_len: int, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise ValidationFailed(f"{field} must not be empty", field=field)
    if len(cleaned) > max_len:
        raise ValidationFailed(f"{field} is longer than {max_len} characters", field=field)
    if "\x00" in cleaned:
        # PostgreSQL cannot store NUL in text; refuse it the same way on every backend.
        raise ValidationFailed(f"{field} must not contain NUL characters", field=field)
    return cleaned


def optional_text(value: str | None, *, field: str, max_len: int) -> str | None:
    cleaned = text(value, field=field, max_len=max_len, required=False)
    return cleaned or None


def email(value: str) -> str:
    cleaned = value.strip().lower()
    if not _EMAIL.match(cleaned) or len(cleaned) > 254:
        raise ValidationFailed("not a valid email address", field="email")
    return cleaned


def username(value: str) -> str:
    cleaned = value.strip().lower()
    if not _USERNAME.match(cleaned):
        raise ValidationFailed(
            "usernames are 2-40 lowercase letters, digits, '.', '_' or '-'", field="username"
        )
    return cleaned


def username_from_email(address: str) -> str:
    """A valid handle derived from an email's local part ("o'neil+it" -> "oneil.it")."""
    local = address.split("@")[0].lower().replace("+", ".")
    handle = re.sub(r"[^a-z0-9._-]", "", local)[:36].strip("._-")
    return handle if len(handle) >= 2 else f"user{handle}"


def password(value: str) -> str:
    if len(value) < PASSWORD_MIN:
        raise ValidationFailed(
            f"passwords need at least {PASSWORD_MIN} characters", field="password"
        )
    return value

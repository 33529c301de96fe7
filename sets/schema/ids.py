"""Relay global IDs ("Type:id" in base64) and opaque cursors."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from sets.domain.errors import NotFound, ValidationFailed
from sets.domain.tickets import parse_ticket_key


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def _b64decode(value: str) -> str:
    padded = value + "=" * (-len(value) % 4)
    return base64.urlsafe_b64decode(padded.encode()).decode()


def parse_global_id(value: str) -> tuple[str, int]:
    try:
        type_name, _, raw = _b64decode(value).partition(":")
        if not type_name or not raw.isdigit():
            raise ValueError(value)
        return type_name, int(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"{value!r} is not a valid id", field="id") from exc


def from_global_id(value: str, expected: str, *, field: str = "id") -> int:
    type_name, pk = parse_global_id(value)
    if type_name != expected:
        # Same answer as a missing row: an id of another type names nothing here.
        raise NotFound(f"no {expected} with id {value!r}", field=field)
    return pk


def ticket_pk(value: str, *, field: str = "ticketId") -> int:
    """Ticket inputs take the Relay id or the human key ("SETS-42")."""
    key = parse_ticket_key(value)
    if key is not None:
        return key
    try:
        return from_global_id(value, "Ticket", field=field)
    except ValidationFailed as exc:
        raise ValidationFailed(f"{value!r} is neither a ticket id nor a key", field=field) from exc


def encode_cursor(payload: Any) -> str:
    raw = orjson.dumps(payload, default=str)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str, *, field: str = "after") -> Any:
    try:
        return orjson.loads(_b64decode(value))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("the cursor is not valid", field=field) from exc

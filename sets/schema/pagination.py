"""Page sizes and cursors for the connections (capped at 100 per page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sets.domain.errors import ValidationFailed
from sets.schema.ids import decode_cursor, encode_cursor
from sets.schema.loaders import EventWindow

MAX_PAGE = 100


def page_size(value: int | None, *, default: int = 20, field: str = "first") -> int:
    if value is None:
        return default
    if value < 0 or value > MAX_PAGE:
        raise ValidationFailed(f"{field} must be between 0 and {MAX_PAGE}", field=field)
    return value


def _int_from(cursor: str | None, key: str, field: str) -> int | None:
    if cursor is None:
        return None
    payload = decode_cursor(cursor, field=field)
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, int):
        raise ValidationFailed("the cursor is not valid here", field=field)
    return value


def event_window(
    *, first: int | None, after: str | None, last: int | None, before: str | None
) -> EventWindow:
    """One more row than asked for is fetched: its presence says whether there is more."""
    if first is not None and last is not None:
        raise ValidationFailed("give first or last, not both", field="last")
    after_seq = _int_from(after, "s", "after")
    before_seq = _int_from(before, "s", "before")
    if last is not None:
        size = page_size(last, field="last")
        return EventWindow(after_seq, before_seq, size + 1, newest_first=True)
    size = page_size(first, default=50)
    return EventWindow(after_seq, before_seq, size + 1, newest_first=False)


def comment_after(cursor: str | None) -> int | None:
    return _int_from(cursor, "c", "after")


def ticket_cursor(order_value: Any, pk: int) -> str:
    if isinstance(order_value, datetime):
        return encode_cursor({"d": order_value.isoformat(), "id": pk})
    return encode_cursor({"v": str(order_value), "id": pk})


def ticket_after(cursor: str | None) -> tuple[Any, int] | None:
    """The (order value, id) keyset position a ticket cursor encodes."""
    if cursor is None:
        return None
    payload = decode_cursor(cursor)
    try:
        pk = payload["id"]
        if not isinstance(pk, int):
            raise TypeError(pk)
        if "d" in payload:
            return datetime.fromisoformat(payload["d"]), pk
        return str(payload["v"]), pk
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed("the cursor is not valid", field="after") from exc

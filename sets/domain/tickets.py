"""The facts about a ticket that rules look at, independent of how it is stored."""

from __future__ import annotations

from typing import Protocol

from sets.domain.enums import TicketStatus


class TicketFacts(Protocol):
    @property
    def status(self) -> TicketStatus: ...
    @property
    def requester_id(self) -> int: ...
    @property
    def assignee_id(self) -> int | None: ...
    @property
    def team_id(self) -> int | None: ...


def ticket_key(ticket_id: int, prefix: str = "SETS") -> str:
    return f"{prefix}-{ticket_id}"


def parse_ticket_key(key: str, prefix: str = "SETS") -> int | None:
    head, sep, number = key.strip().upper().partition("-")
    if sep != "-" or head != prefix or not number.isdigit():
        return None
    value = int(number)
    return value if 0 < value < 2**63 else None

"""Links between tickets (SPEC §9): BLOCKS must stay acyclic; a ticket blocked by an
unresolved one cannot be resolved; DUPLICATES closes the duplicate."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from enum import StrEnum

from sets.domain.errors import InvalidTransition, ValidationFailed
from sets.domain.tickets import ticket_key


class LinkKind(StrEnum):
    BLOCKS = "BLOCKS"  # from blocks to: `to` cannot be resolved while `from` is unresolved
    RELATES_TO = "RELATES_TO"  # symmetric
    DUPLICATES = "DUPLICATES"  # from duplicates to: `from` is closed, pointing at `to`


def check_endpoints(from_id: int, to_id: int) -> None:
    if from_id == to_id:
        raise ValidationFailed("a ticket cannot be linked to itself", field="toTicketId")


def creates_cycle(from_id: int, to_id: int, edges: Iterable[tuple[int, int]]) -> bool:
    """Would the edge from -> to close a cycle, i.e. does `to` already reach `from`?"""
    successors: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        successors[a].append(b)
    seen = {to_id}
    stack = [to_id]
    while stack:
        node = stack.pop()
        if node == from_id:
            return True
        for nxt in successors[node]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def ensure_acyclic(from_id: int, to_id: int, edges: Iterable[tuple[int, int]]) -> None:
    if creates_cycle(from_id, to_id, edges):
        raise ValidationFailed(
            f"{ticket_key(to_id)} already blocks {ticket_key(from_id)} (directly or through "
            "others): the link would make a cycle",
            field="toTicketId",
        )


def check_blockers(ticket_id: int, unresolved_blockers: Sequence[int]) -> None:
    if unresolved_blockers:
        keys = ", ".join(ticket_key(b) for b in sorted(unresolved_blockers))
        raise InvalidTransition(
            f"{ticket_key(ticket_id)} is blocked by unresolved {keys}: resolve "
            "or unlink them first",
            field="to",
        )

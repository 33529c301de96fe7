"""Hash chain over a ticket's audit events (SPEC §6): tampering breaks a link."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(
    *,
    prev_hash: str,
    ticket_id: int,
    seq: int,
    kind: str,
    actor_id: int | None,
    data: Mapping[str, Any],
    created_at: datetime,
) -> str:
    payload = json.dumps(
        [prev_hash, ticket_id, seq, kind, actor_id, data, _instant(created_at)],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _instant(moment: datetime) -> str:
    # Microseconds are kept by both databases; aware instants are compared in UTC, so the
    # zone the writer's clock used cannot change the hash.
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class ChainLink:
    ticket_id: int
    seq: int
    kind: str
    actor_id: int | None
    data: Mapping[str, Any]
    created_at: datetime
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    ticket_id: int
    seq: int
    problem: str


def verify_chain(
    links: Iterable[ChainLink], heads: Mapping[int, tuple[int, str]] | None = None
) -> list[ChainBreak]:
    """Links must come ordered by (ticket_id, seq).

    `heads` maps a ticket id to the (seq, hash) its ticket row records for its newest event:
    without it, events cut off the end of a chain leave a chain that is valid in itself. Heads
    read before the links stay valid while new events are appended meanwhile."""
    heads = heads or {}
    breaks: list[ChainBreak] = []
    last: dict[int, tuple[int, str]] = {}
    for link in links:
        prev_seq, prev_hash = last.get(link.ticket_id, (0, GENESIS))
        if link.seq != prev_seq + 1:
            breaks.append(ChainBreak(link.ticket_id, link.seq, f"expected seq {prev_seq + 1}"))
        if link.prev_hash != prev_hash:
            breaks.append(ChainBreak(link.ticket_id, link.seq, "prev_hash does not match"))
        expected = event_hash(
            prev_hash=link.prev_hash,
            ticket_id=link.ticket_id,
            seq=link.seq,
            kind=link.kind,
            actor_id=link.actor_id,
            data=link.data,
            created_at=link.created_at,
        )
        if expected != link.hash:
            breaks.append(ChainBreak(link.ticket_id, link.seq, "content does not match its hash"))
        head = heads.get(link.ticket_id)
        if head is not None and head[0] == link.seq and head[1] != link.hash:
            breaks.append(
                ChainBreak(link.ticket_id, link.seq, "hash differs from the ticket's head")
            )
        last[link.ticket_id] = (link.seq, link.hash)
    for ticket_id, (head_seq, _) in heads.items():
        newest = last.get(ticket_id, (0, GENESIS))[0]
        if newest < head_seq:
            breaks.append(ChainBreak(ticket_id, head_seq, f"events after seq {newest} are missing"))
    return breaks

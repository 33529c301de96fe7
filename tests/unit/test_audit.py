"""The hash chain over a ticket's events (SPEC §6, §16 "tamper-evident audit")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sets.domain.audit import GENESIS, ChainBreak, ChainLink, event_hash, verify_chain

T0 = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)


def make_link(
    ticket_id: int,
    seq: int,
    prev_hash: str,
    *,
    kind: str = "COMMENTED",
    actor_id: int | None = 7,
    data: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> ChainLink:
    data = {"body": f"event {seq} of ticket {ticket_id}"} if data is None else data
    created_at = created_at or T0 + timedelta(minutes=seq)
    digest = event_hash(
        prev_hash=prev_hash,
        ticket_id=ticket_id,
        seq=seq,
        kind=kind,
        actor_id=actor_id,
        data=data,
        created_at=created_at,
    )
    return ChainLink(ticket_id, seq, kind, actor_id, data, created_at, prev_hash, digest)


def make_chain(ticket_id: int, length: int) -> list[ChainLink]:
    links: list[ChainLink] = []
    prev = GENESIS
    for seq in range(1, length + 1):
        kind = "CREATED" if seq == 1 else "STATUS_CHANGED"
        data = {"from": "NEW", "to": "TODO", "reason": None} if seq > 1 else {"title": "VPN"}
        link = make_link(ticket_id, seq, prev, kind=kind, data=data)
        links.append(link)
        prev = link.hash
    return links


def test_hash_is_hex_sha256_and_deterministic() -> None:
    a = make_link(1, 1, GENESIS)
    b = make_link(1, 1, GENESIS)
    assert a.hash == b.hash
    assert len(a.hash) == 64
    assert int(a.hash, 16) >= 0


def test_hash_ignores_key_order_of_data() -> None:
    a = make_link(1, 1, GENESIS, data={"from": "NEW", "to": "TODO"})
    b = make_link(1, 1, GENESIS, data={"to": "TODO", "from": "NEW"})
    assert a.hash == b.hash


def test_every_field_is_covered_by_the_hash() -> None:
    base = make_link(1, 2, "a" * 64)
    variants = [
        make_link(2, 2, "a" * 64),
        make_link(1, 3, "a" * 64),
        make_link(1, 2, "b" * 64),
        make_link(1, 2, "a" * 64, kind="UPDATED"),
        make_link(1, 2, "a" * 64, actor_id=None),
        make_link(1, 2, "a" * 64, actor_id=8),
        make_link(1, 2, "a" * 64, data={"body": "other"}),
        make_link(1, 2, "a" * 64, created_at=base.created_at + timedelta(microseconds=1)),
    ]
    assert len({base.hash, *(v.hash for v in variants)}) == len(variants) + 1


def test_hash_depends_on_the_instant_not_on_the_zone_it_is_written_in() -> None:
    plus_two = timezone(timedelta(hours=2))
    as_utc = make_link(1, 1, GENESIS, created_at=T0)
    same_instant = make_link(1, 1, GENESIS, created_at=T0.astimezone(plus_two))
    same_wall_clock = make_link(1, 1, GENESIS, created_at=T0.replace(tzinfo=plus_two))
    assert same_instant.hash == as_utc.hash
    assert same_wall_clock.hash != as_utc.hash


def test_chain_written_in_another_zone_verifies_when_read_back_in_utc() -> None:
    # The database hands instants back in UTC whatever zone the writer's clock used.
    plus_two = timezone(timedelta(hours=2))
    link = make_link(1, 1, GENESIS, created_at=T0.astimezone(plus_two))
    assert verify_chain([replace(link, created_at=link.created_at.astimezone(UTC))]) == []


def test_intact_chain_verifies() -> None:
    links = make_chain(1, 3)
    assert links[0].prev_hash == GENESIS
    assert links[1].prev_hash == links[0].hash
    assert links[2].prev_hash == links[1].hash
    assert verify_chain(links) == []
    assert verify_chain([]) == []


def test_tampered_data_breaks_its_own_link() -> None:
    links = make_chain(1, 3)
    links[1] = replace(links[1], data={**links[1].data, "reason": "nothing to see"})
    assert verify_chain(links) == [ChainBreak(1, 2, "content does not match its hash")]


def test_tampered_data_with_a_recomputed_hash_breaks_the_next_link() -> None:
    links = make_chain(1, 3)
    forged = make_link(1, 2, links[0].hash, kind=links[1].kind, data={"to": "CLOSED"})
    links[1] = forged
    assert verify_chain(links) == [ChainBreak(1, 3, "prev_hash does not match")]


def test_a_seq_gap_is_reported() -> None:
    one, two = make_chain(1, 2)
    four = make_link(1, 4, two.hash)  # properly hashed, but seq 3 is missing
    assert verify_chain([one, two, four]) == [ChainBreak(1, 4, "expected seq 3")]


def test_a_deleted_link_is_reported() -> None:
    one, _, three = make_chain(1, 3)
    assert verify_chain([one, three]) == [
        ChainBreak(1, 3, "expected seq 2"),
        ChainBreak(1, 3, "prev_hash does not match"),
    ]


def test_a_wrong_prev_hash_is_reported() -> None:
    one, _ = make_chain(1, 2)
    relinked = make_link(1, 2, GENESIS)  # self-consistent, but not chained to seq 1
    assert verify_chain([one, relinked]) == [ChainBreak(1, 2, "prev_hash does not match")]


def test_the_first_link_must_start_from_genesis() -> None:
    first = make_link(1, 1, "f" * 64)
    assert verify_chain([first]) == [ChainBreak(1, 1, "prev_hash does not match")]


def test_a_chain_must_start_at_seq_one() -> None:
    first = make_link(1, 2, GENESIS)
    assert verify_chain([first]) == [ChainBreak(1, 2, "expected seq 1")]


def test_interleaved_tickets_verify_independently() -> None:
    a, b = make_chain(1, 3), make_chain(2, 3)
    interleaved = [a[0], b[0], b[1], a[1], b[2], a[2]]
    assert verify_chain(interleaved) == []
    interleaved[3] = replace(a[1], actor_id=99)
    assert verify_chain(interleaved) == [ChainBreak(1, 2, "content does not match its hash")]


def test_a_link_moved_to_another_ticket_is_reported() -> None:
    a, b = make_chain(1, 2), make_chain(2, 2)
    moved = replace(a[1], ticket_id=2, seq=3, prev_hash=b[1].hash)
    breaks = verify_chain([*a[:1], *b, moved])
    assert breaks == [ChainBreak(2, 3, "content does not match its hash")]


@given(
    body=st.text(min_size=1, max_size=40),
    position=st.integers(min_value=0),
    replacement=st.characters(),
    which=st.integers(min_value=0, max_value=2),
)
def test_any_single_character_change_in_data_is_detected(
    body: str, position: int, replacement: str, which: int
) -> None:
    links: list[ChainLink] = []
    prev = GENESIS
    for seq in (1, 2, 3):
        links.append(make_link(5, seq, prev, data={"body": body, "n": seq}))
        prev = links[-1].hash
    assert verify_chain(links) == []

    index = position % len(body)
    if body[index] == replacement:
        replacement = chr((ord(replacement) + 1) % 0x110000)
    tampered_body = body[:index] + replacement + body[index + 1 :]
    victim = links[which]
    links[which] = replace(victim, data={**victim.data, "body": tampered_body})

    assert verify_chain(links) == [ChainBreak(5, victim.seq, "content does not match its hash")]

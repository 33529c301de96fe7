"""Notification rules in the domain: mentions, backoff, preference resolution."""

from __future__ import annotations

import pytest

from sets.domain.enums import Role, TicketStatus
from sets.domain.errors import ValidationFailed
from sets.domain.notifications import (
    Audience,
    Channel,
    NotifyEvent,
    Source,
    cell,
    channels_for,
    check_setting,
    matrix,
    mentioned_usernames,
    retry_delay,
    status_event,
    unique,
)

E, C = NotifyEvent, Channel


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("@agent please look", ["agent"]),
        ("ping @Agent and @senior.", ["agent", "senior"]),
        ("mail agent@example.com, not a mention", []),
        ("@agent @agent twice", ["agent"]),
        ("(@o.neil) in brackets", ["o.neil"]),
        ("trailing dot @max_m.", ["max_m"]),
        ("@a is too short for a username", []),
        ("x@agent glued to a word", []),
        ("@@agent doubled", []),
    ],
)
def test_mentions(text: str, names: list[str]) -> None:
    assert mentioned_usernames(text) == names


def test_mentions_are_capped() -> None:
    text = " ".join(f"@user{n}" for n in range(50))
    assert len(mentioned_usernames(text)) == 20


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [retry_delay(n, base=30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(20, base=30, cap=3600) == 3600
    assert retry_delay(1, base=0) == 0


def test_own_choice_beats_admin_default_beats_built_in() -> None:
    staff = Audience.STAFF
    assert cell(staff, E.ASSIGNED, C.SLACK, defaults={}).enabled  # built in
    off = {(E.ASSIGNED, C.SLACK): False}
    found = cell(staff, E.ASSIGNED, C.SLACK, defaults=off)
    assert (found.enabled, found.source) == (False, Source.DEFAULT)
    mine = cell(staff, E.ASSIGNED, C.SLACK, defaults=off, own={(E.ASSIGNED, C.SLACK): True})
    assert (mine.enabled, mine.source) == (True, Source.USER)


def test_requesters_are_never_on_slack() -> None:
    requester = Audience.REQUESTER
    cells = matrix(requester, defaults={(E.COMMENTED, C.SLACK): True})
    assert C.SLACK not in {c.channel for c in cells}
    assert channels_for(requester, E.COMMENTED, defaults={}) == [C.IN_APP, C.EMAIL]
    with pytest.raises(ValidationFailed):
        check_setting(requester, E.COMMENTED, C.SLACK, field="preferences")
    with pytest.raises(ValidationFailed):
        check_setting(requester, E.SLA_BREACHED, C.EMAIL, field="preferences")
    check_setting(Audience.STAFF, E.SLA_BREACHED, C.SMS, field="preferences")


def test_built_in_defaults() -> None:
    staff = Audience.STAFF
    assert channels_for(staff, E.ASSIGNED, defaults={}) == [C.IN_APP, C.SLACK]
    assert channels_for(staff, E.ESCALATED, defaults={}) == [C.IN_APP, C.EMAIL]
    assert channels_for(Audience.REQUESTER, E.RESOLVED, defaults={}) == [C.IN_APP, C.EMAIL]
    assert Audience.of(Role.MANAGER) is staff and Audience.of(Role.REQUESTER) is not staff
    assert all(not c.enabled for c in matrix(staff, defaults={}) if c.channel is C.SMS)


def test_status_events() -> None:
    assert status_event(TicketStatus.RESOLVED) is E.RESOLVED
    assert status_event(TicketStatus.CLOSED) is E.CLOSED
    assert status_event(TicketStatus.PENDING) is E.STATUS_CHANGED


def test_unique_keeps_order_and_drops_blanks() -> None:
    assert unique([3, None, 1, 3, 2, 1]) == [3, 1, 2]

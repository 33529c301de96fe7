"""Collaboration rules (issue 7): pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from sets.domain import csat, knowledge, links, tasks, time_tracking
from sets.domain.actor import Actor
from sets.domain.enums import Role, TicketStatus
from sets.domain.errors import DomainError, ErrorCode

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


@dataclass
class Facts:
    status: TicketStatus = TicketStatus.IN_PROGRESS
    requester_id: int = 1
    assignee_id: int | None = 2
    team_id: int | None = 10


def code_of(call: object) -> ErrorCode:
    with pytest.raises(DomainError) as info:
        call()  # type: ignore[operator]
    return info.value.code


def test_blocks_cycles() -> None:
    edges = [(1, 2), (2, 3), (5, 6)]
    assert links.creates_cycle(3, 1, edges)  # 1 -> 2 -> 3 already
    assert links.creates_cycle(2, 1, edges)
    assert not links.creates_cycle(1, 3, edges)  # a shortcut, not a cycle
    assert not links.creates_cycle(3, 5, edges)
    assert code_of(lambda: links.ensure_acyclic(3, 1, edges)) is ErrorCode.VALIDATION
    assert code_of(lambda: links.check_endpoints(4, 4)) is ErrorCode.VALIDATION
    assert code_of(lambda: links.check_blockers(7, [3])) is ErrorCode.INVALID_TRANSITION
    links.check_blockers(7, [])


def test_timer_minutes_count_begun_minutes() -> None:
    assert time_tracking.timer_minutes(T0, T0) == 0
    assert time_tracking.timer_minutes(T0, T0 + timedelta(seconds=1)) == 1
    assert time_tracking.timer_minutes(T0, T0 + timedelta(minutes=12, seconds=5)) == 13
    assert time_tracking.timer_minutes(T0, T0 + timedelta(days=3)) == 24 * 60
    assert time_tracking.spent_at(None, T0) == T0
    for bad in (T0 + timedelta(seconds=1), T0 - timedelta(days=400), datetime(2026, 1, 1)):
        assert code_of(lambda b=bad: time_tracking.spent_at(b, T0)) is ErrorCode.VALIDATION


def test_task_order_and_force() -> None:
    assert tasks.new_order([1, 2, 3], [3, 1, 2]) == [3, 1, 2]
    for wanted in ([1, 2], [1, 2, 2, 3], [1, 2, 4]):
        assert code_of(lambda w=wanted: tasks.new_order([1, 2, 3], w)) is ErrorCode.VALIDATION
    agent = Actor(2, Role.AGENT, frozenset({10}))
    manager = Actor(3, Role.MANAGER, frozenset({10}))
    other_manager = Actor(4, Role.MANAGER, frozenset({11}))
    ticket = Facts()
    assert tasks.check_open_tasks(agent, 9, ticket, 0, force=False) is False
    assert code_of(lambda: tasks.check_open_tasks(agent, 9, ticket, 2, force=False)) is (
        ErrorCode.INVALID_TRANSITION
    )
    assert code_of(lambda: tasks.check_open_tasks(agent, 9, ticket, 2, force=True)) is (
        ErrorCode.FORBIDDEN
    )
    assert code_of(lambda: tasks.check_open_tasks(other_manager, 9, ticket, 2, force=True)) is (
        ErrorCode.FORBIDDEN
    )
    assert tasks.check_open_tasks(manager, 9, ticket, 2, force=True) is True
    assert tasks.check_open_tasks(Actor.system(), 9, ticket, 2, force=True) is True


def test_csat_rules() -> None:
    rita = Actor(1, Role.REQUESTER)
    assert csat.score(1) == 1 and csat.score(5) == 5
    assert code_of(lambda: csat.score(0)) is ErrorCode.VALIDATION
    done = Facts(status=TicketStatus.RESOLVED)
    csat.check_can_rate(rita, done, already_rated=False)
    csat.check_can_rate(rita, Facts(status=TicketStatus.CLOSED), already_rated=False)
    assert code_of(lambda: csat.check_can_rate(rita, Facts(), already_rated=False)) is (
        ErrorCode.INVALID_TRANSITION
    )
    assert code_of(lambda: csat.check_can_rate(rita, done, already_rated=True)) is (
        ErrorCode.CONFLICT
    )
    carl = Actor(9, Role.REQUESTER)
    assert code_of(lambda: csat.check_can_rate(carl, done, already_rated=False)) is (
        ErrorCode.NOT_FOUND
    )


def test_knowledge_words() -> None:
    assert knowledge.search_words("  Printer ERROR 50.4 ") == ["printer", "error", "50", "4"]
    assert knowledge.search_words(None) == []
    assert len(knowledge.search_words(" ".join("abcdefghijklmnop"))) == 10

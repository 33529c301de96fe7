"""Bad input is refused with a typed error naming the field, and nothing is written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sets.domain import validation
from sets.domain.actor import Actor
from sets.domain.enums import TicketStatus
from sets.domain.errors import ErrorCode
from tests.integration.support import Demo, raises_domain

Attempt = Callable[[Demo], Awaitable[Any]]


async def _create(demo: Demo, **fields: Any) -> Any:
    values: dict[str, Any] = {"title": "Printer offline", "description": "Floor 2."}
    values.update(fields)
    return await demo.services.tickets.create(demo.rita, **values)


CREATE_CASES: list[tuple[str, dict[str, Any], ErrorCode, str]] = [
    ("empty title", {"title": ""}, ErrorCode.VALIDATION, "title"),
    ("blank title", {"title": " \t\n "}, ErrorCode.VALIDATION, "title"),
    (
        "long title",
        {"title": "x" * (validation.TITLE_MAX + 1)},
        ErrorCode.VALIDATION,
        "title",
    ),
    ("empty description", {"description": ""}, ErrorCode.VALIDATION, "description"),
    (
        "long description",
        {"description": "y" * (validation.DESCRIPTION_MAX + 1)},
        ErrorCode.VALIDATION,
        "description",
    ),
    ("unknown category", {"category_id": 987_654}, ErrorCode.NOT_FOUND, "categoryId"),
]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [case[1:] for case in CREATE_CASES],
    ids=[case[0] for case in CREATE_CASES],
)
async def test_create_refuses_bad_input_without_writing(
    demo: Demo, fields: dict[str, Any], code: ErrorCode, field: str
) -> None:
    rows = await demo.row_counts()
    with raises_domain(code, field):
        await _create(demo, **fields)
    assert await demo.row_counts() == rows


async def test_limits_are_inclusive_and_whitespace_is_trimmed(demo: Demo) -> None:
    ticket = await _create(
        demo,
        title="  " + "t" * validation.TITLE_MAX + "  ",
        description="d" * validation.DESCRIPTION_MAX,
    )
    stored = await demo.ticket(ticket.id)
    assert stored.title == "t" * validation.TITLE_MAX
    assert len(stored.description) == validation.DESCRIPTION_MAX


async def test_unicode_text_round_trips(demo: Demo) -> None:
    title = "Drucker ünd Éclair — 打印机 🖨️"
    ticket = await _create(demo, title=title, description="Zeile 1\nZeile 2")
    stored = await demo.ticket(ticket.id)
    assert (stored.title, stored.description) == (title, "Zeile 1\nZeile 2")
    total, breaks = await demo.services.reads.verify_audit_chain(demo.admin, ticket.id)
    assert (total, breaks) == (1, [])


async def test_nul_character_is_a_validation_error_on_every_backend(demo: Demo) -> None:
    """PostgreSQL cannot store NUL in text: it must be refused before it reaches the database,
    the same on SQLite, rather than surfacing as a database error."""
    rows = await demo.row_counts()
    with raises_domain(ErrorCode.VALIDATION, "title"):
        await _create(demo, title="bad\x00title")
    with raises_domain(ErrorCode.VALIDATION, "description"):
        await _create(demo, description="bad\x00description")
    assert await demo.row_counts() == rows


async def test_deleted_category_counts_as_unknown(demo: Demo) -> None:
    hardware = demo.categories["Hardware"]
    await demo.services.admin.delete_category(demo.admin, hardware)
    rows = await demo.row_counts()
    with raises_domain(ErrorCode.NOT_FOUND, "categoryId"):
        await _create(demo, category_id=hardware)
    assert await demo.row_counts() == rows


async def test_system_actor_cannot_file_or_comment(demo: Demo) -> None:
    rows = await demo.row_counts()
    with raises_domain(ErrorCode.VALIDATION, "requester"):
        await demo.services.tickets.create(Actor.system(), title="t", description="d")
    with raises_domain(ErrorCode.VALIDATION, "body"):
        await demo.services.tickets.add_comment(Actor.system(), 1, body="hello")
    assert await demo.row_counts() == rows


def _mutations(ticket_id: int) -> list[tuple[str, Attempt, ErrorCode, str]]:
    long_reason = "r" * (validation.REASON_MAX + 1)
    long_comment = "c" * (validation.COMMENT_MAX + 1)
    return [
        (
            "update empty title",
            lambda d: d.services.tickets.update(d.rita, ticket_id, title="  "),
            ErrorCode.VALIDATION,
            "title",
        ),
        (
            "update long title",
            lambda d: d.services.tickets.update(
                d.rita, ticket_id, title="x" * (validation.TITLE_MAX + 1)
            ),
            ErrorCode.VALIDATION,
            "title",
        ),
        (
            "update long description",
            lambda d: d.services.tickets.update(
                d.rita, ticket_id, description="x" * (validation.DESCRIPTION_MAX + 1)
            ),
            ErrorCode.VALIDATION,
            "description",
        ),
        (
            "update unknown category",
            lambda d: d.services.tickets.update(d.rita, ticket_id, category_id=987_654),
            ErrorCode.NOT_FOUND,
            "categoryId",
        ),
        (
            "update title ok but category unknown",
            lambda d: d.services.tickets.update(
                d.rita, ticket_id, title="New title", category_id=987_654
            ),
            ErrorCode.NOT_FOUND,
            "categoryId",
        ),
        (
            "empty comment",
            lambda d: d.services.tickets.add_comment(d.rita, ticket_id, body=" "),
            ErrorCode.VALIDATION,
            "body",
        ),
        (
            "long comment",
            lambda d: d.services.tickets.add_comment(d.rita, ticket_id, body=long_comment),
            ErrorCode.VALIDATION,
            "body",
        ),
        (
            "comment on unknown parent",
            lambda d: d.services.tickets.add_comment(
                d.rita, ticket_id, body="re", parent_id=987_654
            ),
            ErrorCode.NOT_FOUND,
            "parentId",
        ),
        (
            "long close reason",
            lambda d: d.services.tickets.transition(
                d.rita, ticket_id, TicketStatus.CLOSED, reason=long_reason
            ),
            ErrorCode.VALIDATION,
            "reason",
        ),
        (
            "assign nobody",
            lambda d: d.services.tickets.assign(d.admin, ticket_id, assignee_id=None),
            ErrorCode.VALIDATION,
            "assigneeId",
        ),
        (
            "assign to unknown team",
            lambda d: d.services.tickets.assign(d.admin, ticket_id, assignee_id=None, team_id=9876),
            ErrorCode.NOT_FOUND,
            "teamId",
        ),
        (
            "long assign reason",
            lambda d: d.services.tickets.assign(
                d.agent, ticket_id, assignee_id=d.agent.user_id, reason=long_reason
            ),
            ErrorCode.VALIDATION,
            "reason",
        ),
        (
            "unknown ticket",
            lambda d: d.services.tickets.update(d.admin, 987_654, title="x"),
            ErrorCode.NOT_FOUND,
            "ticketId",
        ),
    ]


async def test_mutations_refuse_bad_input_without_writing(demo: Demo) -> None:
    ticket = await _create(demo)
    before = await demo.ticket(ticket.id)
    rows = await demo.row_counts()
    for name, attempt, code, field in _mutations(ticket.id):
        with raises_domain(code, field):
            await attempt(demo)
        assert await demo.row_counts() == rows, name
    after = await demo.ticket(ticket.id)
    assert (after.version, after.title, after.category_id, after.status) == (
        before.version,
        before.title,
        before.category_id,
        before.status,
    )

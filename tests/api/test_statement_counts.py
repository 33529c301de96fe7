"""No N+1: the dashboard query costs the same few statements whatever the page size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from sets.services.container import Services
from tests.api.conftest import Api
from tests.documents import DASHBOARD
from tests.helpers import actor_of


@contextmanager
def counting(services: Services) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_dashboard_statements_do_not_grow_with_page_size(
    api: Api, services: Services
) -> None:
    rita = await actor_of(services, "requester@example.com")
    agent = await actor_of(services, "agent@example.com")
    for n in range(60):
        ticket = await services.tickets.create(
            rita, title=f"Ticket {n}", description="Something is broken."
        )
        if n % 3 == 0:
            await services.tickets.assign(agent, ticket.id, assignee_id=agent.user_id)
    token = await api.login("manager@example.com")

    counts = {}
    for size in (10, 50):
        with counting(services) as statements:
            data = await api.data(DASHBOARD, {"first": size}, token=token)
        assert len(data["tickets"]["edges"]) == size
        assert all(e["node"]["events"]["nodes"] for e in data["tickets"]["edges"])
        counts[size] = len(statements)
    # auth (user + teams), tickets, users, categories, teams, last events
    assert counts[10] == counts[50] <= 6, counts
    # totalCount is one COUNT more, and only when asked for.
    with_total = DASHBOARD.replace("pageInfo", "totalCount pageInfo")
    with counting(services) as statements:
        data = await api.data(with_total, {"first": 10}, token=token)
    assert data["tickets"]["totalCount"] == 63
    assert len(statements) == counts[10] + 1

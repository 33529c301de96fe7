"""On the real schema and data, the fast executor answers byte for byte what graphql-core's own
executor answers: ticket pages (relations loaded ahead), single tickets (DataLoaders), event
pages with ids and cursors (computed), and errors."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from sets.schema import build_schema
from sets.schema.context import Context
from sets.schema.execution import FastExecutor
from sets.services.bulk import load_tickets
from sets.services.container import Services
from sets.services.demo import DEMO_PASSWORD
from tests.documents import DASHBOARD, TICKET_EVENTS

PAGE = """
fragment People on Ticket { requester { id name email } assignee { id name role } }
query Page($last: Int) {
  tickets(first: 20, orderBy: {field: CREATED_AT, direction: ASC}) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      __typename id key ...People team { id name tier external }
      category { id name defaultPriority isDefault }
      urgency resolution resolvedAt canWork allowedTransitions
      recent: events(last: 2, before: null) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id cursor seq kind internal data createdAt from to
                              actor { id name } } }
        nodes { kind actor { name } }
      }
      first: events(first: 1) { nodes { id kind } }
      chosen: events(last: $last) { nodes { seq } }
    } }
    nodes { id title status priority sla { paused firstResponseDueAt } }
  }
}"""

# (Separate documents: a null propagating to the root cancels the other root fields, and
# where they were then is a matter of timing.)
ERRORS = """
query Bad($id: ID!) {
  ok: ticket(id: $id) { key events(last: 2) { nodes { kind } } }
  missing: ticket(id: "VGlja2V0Ojk5OTk5OQ") { key }
  garbage: ticket(id: "%%%") { key }
}"""
BAD_PAGE = "query { tickets(first: 3) { nodes { key events(last: 500) { nodes { kind } } } } }"


def _plain(schema: strawberry.Schema) -> strawberry.Schema:
    schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    return schema


async def _run(
    schema: strawberry.Schema, services: Services, token: str, query: str, variables: Any
) -> bytes:
    result = await schema.execute(
        query, variable_values=variables, context_value=Context(services, token)
    )
    # Errors of concurrent async fields arrive in the order they complete, run to run.
    errors = sorted((e.formatted for e in result.errors or []), key=orjson.dumps)
    return orjson.dumps({"data": result.data, "errors": errors})


@pytest.mark.parametrize("email", ["admin@example.com", "requester@example.com"])
async def test_fast_and_standard_execution_agree(services: Services, email: str) -> None:
    await load_tickets(services, 30)
    token = (await services.auth.login(email, DEMO_PASSWORD)).access_token
    fast = build_schema(services.settings)
    plain = _plain(build_schema(services.settings))
    assert fast.execution_context_class is FastExecutor
    first = await fast.execute(
        "query { tickets(first: 1) { nodes { id } } }", context_value=Context(services, token)
    )
    assert first.data is not None
    ticket_id = first.data["tickets"]["nodes"][0]["id"]
    cases: list[tuple[str, dict[str, Any]]] = [
        (DASHBOARD, {"first": 25}),
        (PAGE, {"last": 2}),
        (PAGE, {"last": None}),
        (TICKET_EVENTS, {"id": ticket_id}),
        (ERRORS, {"id": ticket_id}),
        (BAD_PAGE, {}),
    ]
    for query, variables in cases:
        expected = await _run(plain, services, token, query, variables)
        assert await _run(fast, services, token, query, variables) == expected, query
    body = orjson.loads(await _run(fast, services, token, ERRORS, {"id": ticket_id}))
    assert {e["path"][0] for e in body["errors"]} == {"missing", "garbage"}
    body = orjson.loads(await _run(fast, services, token, BAD_PAGE, {}))
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "VALIDATION"

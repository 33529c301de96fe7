"""The floor the dashboard benchmark is measured against: the same page of tickets (requester,
assignee, category, team, SLA, escalation level and the last three events) answered by one
hand-written SQL statement and orjson, with no GraphQL, no auth and no ORM."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

FLOOR_SQL = text(
    """
WITH page AS (
    SELECT * FROM tickets WHERE deleted_at IS NULL
    ORDER BY created_at DESC, id DESC LIMIT :first
), recent AS (
    SELECT e.ticket_id, e.kind, e.data, e.created_at, e.actor_id,
           row_number() OVER (PARTITION BY e.ticket_id ORDER BY e.seq DESC) AS rn
    FROM ticket_events e WHERE e.ticket_id IN (SELECT id FROM page)
)
SELECT p.id, p.title, p.status, p.priority, p.escalation_level, p.created_at,
       p.first_response_due_at, p.resolution_due_at, p.first_responded_at,
       p.first_response_breached, p.resolution_breached,
       r.id AS requester_id, r.name AS requester_name,
       a.id AS assignee_id, a.name AS assignee_name,
       c.id AS category_id, c.name AS category_name,
       t.id AS team_id, t.name AS team_name,
       ev.kind AS event_kind, ev.data AS event_data, ev.created_at AS event_at,
       ev.rn AS event_rank, actor.name AS event_actor
FROM page p
JOIN users r ON r.id = p.requester_id
LEFT JOIN users a ON a.id = p.assignee_id
LEFT JOIN categories c ON c.id = p.category_id
LEFT JOIN teams t ON t.id = p.team_id
LEFT JOIN recent ev ON ev.ticket_id = p.id AND ev.rn <= 3
LEFT JOIN users actor ON actor.id = ev.actor_id
ORDER BY p.created_at DESC, p.id DESC, ev.rn DESC
"""
)


def _ref(pk: Any, name: Any) -> dict[str, Any] | None:
    return None if pk is None else {"id": pk, "name": name}


async def floor_page(engine: AsyncEngine, first: int) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(FLOOR_SQL, {"first": first})).mappings().all()
    tickets: dict[int, dict[str, Any]] = {}
    for row in rows:
        ticket = tickets.get(row["id"])
        if ticket is None:
            ticket = tickets[row["id"]] = {
                "id": row["id"],
                "key": f"SETS-{row['id']}",
                "title": row["title"],
                "status": row["status"],
                "priority": row["priority"],
                "escalationLevel": row["escalation_level"],
                "createdAt": row["created_at"],
                "sla": {
                    "firstResponseDueAt": row["first_response_due_at"],
                    "resolutionDueAt": row["resolution_due_at"],
                    "firstRespondedAt": row["first_responded_at"],
                    "firstResponseBreached": bool(row["first_response_breached"]),
                    "resolutionBreached": bool(row["resolution_breached"]),
                },
                "requester": _ref(row["requester_id"], row["requester_name"]),
                "assignee": _ref(row["assignee_id"], row["assignee_name"]),
                "category": _ref(row["category_id"], row["category_name"]),
                "team": _ref(row["team_id"], row["team_name"]),
                "events": [],
            }
        if row["event_kind"] is not None:
            data = row["event_data"]
            if isinstance(data, str | bytes):
                data = orjson.loads(data)
            ticket["events"].append(
                {
                    "kind": row["event_kind"],
                    "from": data.get("from"),
                    "to": data.get("to"),
                    "createdAt": row["event_at"],
                    "actor": row["event_actor"],
                }
            )
    return list(tickets.values())


def floor_endpoint(engine: AsyncEngine) -> Any:
    async def endpoint(request: Request) -> Response:
        first = min(int(request.query_params.get("first", "50")), 100)
        body = orjson.dumps({"tickets": await floor_page(engine, first)})
        return Response(body, media_type="application/json")

    return endpoint

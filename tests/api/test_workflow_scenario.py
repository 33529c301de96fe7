"""Issue 2, scenario 3, through GraphQL on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

from sets.domain.clock import FixedClock
from sets.schema.ids import parse_global_id
from tests.api.conftest import Api
from tests.documents import (
    ASSIGN,
    CATEGORIES,
    CHANGE_PRIORITY,
    COMMENT,
    CREATE_TICKET,
    ESCALATE,
    ME,
    TICKET_BY_KEY,
    TICKET_EVENTS,
    TRANSITION,
    UPDATE,
)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_payment_ticket_from_creation_to_closed(api: Api, clock: FixedClock) -> None:
    rita = await api.login("requester@example.com")
    agent = await api.login("agent@example.com")
    categories = {
        c["name"]: c["id"] for c in (await api.data(CATEGORIES, token=rita))["categories"]
    }

    created = (
        await api.data(
            CREATE_TICKET,
            {
                "input": {
                    "title": "Card payments fail at checkout",
                    "description": "Every card is declined since 09:00.",
                    "categoryId": categories["Payment"],
                }
            },
            token=rita,
        )
    )["createTicket"]
    assert created["userErrors"] == []
    ticket = created["ticket"]
    assert ticket["priority"] == "P1"
    assert ticket["status"] == "NEW"
    assert ticket["key"].startswith("SETS-")
    opened = at(ticket["createdAt"])
    assert opened == clock.now()
    assert at(ticket["sla"]["firstResponseDueAt"]) == opened + timedelta(minutes=15)
    assert at(ticket["sla"]["resolutionDueAt"]) == opened + timedelta(hours=2)
    assert ticket["team"]["name"] == "Service Desk"
    tid = ticket["id"]

    me = (await api.data(ME, token=agent))["me"]
    clock.advance(timedelta(minutes=3))
    taken = (
        await api.data(ASSIGN, {"input": {"ticketId": tid, "assigneeId": me["id"]}}, token=agent)
    )["assignTicket"]
    assert taken["userErrors"] == []
    assert taken["ticket"]["status"] == "TODO"
    assert taken["ticket"]["assignee"]["name"] == "Alex Agent"

    clock.advance(timedelta(minutes=1))
    moved = (
        await api.data(TRANSITION, {"input": {"ticketId": tid, "to": "IN_PROGRESS"}}, token=agent)
    )["transitionTicket"]
    assert moved["ticket"]["status"] == "IN_PROGRESS", moved

    clock.advance(timedelta(minutes=1))
    note = (
        await api.data(
            COMMENT,
            {"input": {"ticketId": tid, "body": "Acquirer outage?", "internal": True}},
            token=agent,
        )
    )["addComment"]
    assert note["userErrors"] == []
    assert note["ticket"]["sla"]["firstRespondedAt"] is None

    clock.advance(timedelta(minutes=2))
    reply = (
        await api.data(COMMENT, {"input": {"ticketId": tid, "body": "We are on it."}}, token=agent)
    )["addComment"]
    assert at(reply["ticket"]["sla"]["firstRespondedAt"]) == clock.now()

    refused = (
        await api.data(TRANSITION, {"input": {"ticketId": tid, "to": "RESOLVED"}}, token=agent)
    )["transitionTicket"]
    assert refused["ticket"] is None
    assert refused["userErrors"][0]["field"] == "resolution"

    clock.advance(timedelta(minutes=30))
    agent = await api.login("agent@example.com")  # access tokens last 15 minutes
    resolved = (
        await api.data(
            TRANSITION,
            {"input": {"ticketId": tid, "to": "RESOLVED", "resolution": "Acquirer key rotated."}},
            token=agent,
        )
    )["transitionTicket"]
    assert resolved["userErrors"] == []
    assert resolved["ticket"]["resolution"] == "Acquirer key rotated."

    clock.advance(timedelta(hours=1))
    rita = await api.login("requester@example.com")
    agent = await api.login("agent@example.com")
    closed = (await api.data(TRANSITION, {"input": {"ticketId": tid, "to": "CLOSED"}}, token=rita))[
        "transitionTicket"
    ]
    assert closed["userErrors"] == [], closed
    assert closed["ticket"]["status"] == "CLOSED"

    after_close = [
        (UPDATE, {"ticketId": tid, "title": "again"}, agent, "updateTicket"),
        (
            TRANSITION,
            {"ticketId": tid, "to": "IN_PROGRESS", "reason": "x"},
            agent,
            "transitionTicket",
        ),
        (
            TRANSITION,
            {"ticketId": tid, "to": "IN_PROGRESS", "reason": "x"},
            rita,
            "transitionTicket",
        ),
        (COMMENT, {"ticketId": tid, "body": "one more thing"}, rita, "addComment"),
        (ASSIGN, {"ticketId": tid, "assigneeId": me["id"], "reason": "x"}, agent, "assignTicket"),
        (
            CHANGE_PRIORITY,
            {"ticketId": tid, "priority": "P4", "reason": "x"},
            agent,
            "changePriority",
        ),
        (ESCALATE, {"ticketId": tid, "reason": "x"}, agent, "escalateTicket"),
    ]
    for document, variables, token, name in after_close:
        payload = (await api.data(document, {"input": variables}, token=token))[name]
        assert [e["code"] for e in payload["userErrors"]] == ["TICKET_CLOSED"], (name, payload)

    trail = (await api.data(TICKET_EVENTS, {"id": tid}, token=agent))["ticket"]
    events = [e["node"] for e in trail["events"]["edges"]]
    steps = [(e["kind"], e["from"], e["to"], e["actor"]["name"]) for e in events]
    assert steps == [
        ("CREATED", None, None, "Rita Requester"),
        ("ASSIGNED", None, str(parse_global_id(me["id"])[1]), "Alex Agent"),
        ("STATUS_CHANGED", "NEW", "TODO", "Alex Agent"),
        ("STATUS_CHANGED", "TODO", "IN_PROGRESS", "Alex Agent"),
        ("COMMENTED", None, None, "Alex Agent"),
        ("COMMENTED", None, None, "Alex Agent"),
        ("STATUS_CHANGED", "IN_PROGRESS", "RESOLVED", "Alex Agent"),
        ("STATUS_CHANGED", "RESOLVED", "CLOSED", "Rita Requester"),
    ]
    assert [e["seq"] for e in events] == list(range(1, 9))
    times = [at(e["createdAt"]) for e in events]
    assert times == sorted(times) and times[0] == opened
    assert trail["events"]["totalCount"] == 8

    # The requester sees the same trail without the internal note.
    seen_by_rita = (await api.data(TICKET_EVENTS, {"id": tid}, token=rita))["ticket"]
    rita_events = [e["node"] for e in seen_by_rita["events"]["edges"]]
    assert len(rita_events) == 7
    assert not any(e["internal"] for e in rita_events)
    assert [c["body"] for c in seen_by_rita["comments"]["nodes"]] == ["We are on it."]

    by_key = (await api.data(TICKET_BY_KEY, {"key": trail["key"]}, token=rita))["ticketByKey"]
    assert by_key["id"] == tid

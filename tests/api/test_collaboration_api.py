"""Issue 7 through GraphQL on both databases: tasks and the force rule, links, time, CSAT."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.documents import ASSIGN, CREATE_TICKET, ME, TRANSITION

ERRORS = "userErrors { field message code }"
ADD_TASK = f"""
mutation Add($input: AddTaskInput!) {{
  addTask(input: $input) {{ task {{ id title position done assignee {{ email }} }} {ERRORS} }}
}}"""
COMPLETE_TASK = f"""
mutation Done($input: CompleteTaskInput!) {{
  completeTask(input: $input) {{ task {{ id done doneBy {{ email }} }} {ERRORS} }}
}}"""
REORDER = f"""
mutation Reorder($input: ReorderTasksInput!) {{
  reorderTasks(input: $input) {{ tasks {{ id position }} {ERRORS} }}
}}"""
RESOLVE = f"""
mutation Resolve($input: ResolveTicketInput!) {{
  resolveTicket(input: $input) {{ ticket {{ id status }} {ERRORS} }}
}}"""
LINK = f"""
mutation Link($input: LinkTicketsInput!) {{
  linkTickets(input: $input) {{
    link {{ id kind fromTicket {{ id status }} toTicket {{ id }} }} {ERRORS}
  }}
}}"""
LOG_TIME = f"""
mutation Log($input: LogTimeInput!) {{
  logTime(input: $input) {{ timeEntry {{ id minutes note running user {{ email }} }} {ERRORS} }}
}}"""
START = f"""
mutation Start($input: StartTimerInput!) {{
  startTimer(input: $input) {{ timeEntry {{ id running }} {ERRORS} }}
}}"""
STOP = f"mutation {{ stopTimer {{ timeEntry {{ id running minutes }} {ERRORS} }} }}"
RATE = f"""
mutation Rate($input: RateTicketInput!) {{
  rateTicket(input: $input) {{ rating {{ score comment rater {{ email }} }} {ERRORS} }}
}}"""
CAPTURE = f"""
mutation Capture($input: CaptureKnowledgeInput!) {{
  captureKnowledge(input: $input) {{ article {{ id published }} {ERRORS} }}
}}"""
NODE = "query Node($id: ID!) { node(id: $id) { __typename id } }"
TICKET = """
query T($id: ID!) {
  ticket(id: $id) {
    status timeSpentMinutes
    tasks { title done position }
    links { kind fromTicket { id } toTicket { id } }
    timeEntries { minutes running }
    rating { score comment }
  }
}"""


async def _open_ticket(api: Api, rita: str, agent: str, title: str) -> str:
    created = await api.data(
        CREATE_TICKET, {"input": {"title": title, "description": "x"}}, token=rita
    )
    tid: str = created["createTicket"]["ticket"]["id"]
    me = (await api.data(ME, token=agent))["me"]["id"]
    await api.data(ASSIGN, {"input": {"ticketId": tid, "assigneeId": me}}, token=agent)
    moved = await api.data(TRANSITION, {"input": {"ticketId": tid, "to": "IN_PROGRESS"}}, agent)
    assert moved["transitionTicket"]["userErrors"] == []
    return tid


def _ok(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["userErrors"] == [], payload
    return payload


async def test_tasks_links_time_and_rating_over_graphql(api: Api) -> None:
    rita = await api.login("requester@example.com")
    agent = await api.login("agent@example.com")
    manager = await api.login("manager@example.com")
    tid = await _open_ticket(api, rita, agent, "Printer jam")
    other = await _open_ticket(api, rita, agent, "Toner order")

    first = _ok(
        (await api.data(ADD_TASK, {"input": {"ticketId": tid, "title": "Clear tray"}}, agent))[
            "addTask"
        ]
    )["task"]
    second = _ok(
        (await api.data(ADD_TASK, {"input": {"ticketId": tid, "title": "Test"}}, agent))["addTask"]
    )["task"]
    reordered = _ok(
        (
            await api.data(
                REORDER, {"input": {"ticketId": tid, "taskIds": [second["id"], first["id"]]}}, agent
            )
        )["reorderTasks"]
    )
    assert [t["id"] for t in reordered["tasks"]] == [second["id"], first["id"]]
    _ok((await api.data(COMPLETE_TASK, {"input": {"taskId": second["id"]}}, agent))["completeTask"])

    # One open task: resolving is refused with a coded userError, the ticket unchanged.
    refused = (
        await api.data(
            TRANSITION, {"input": {"ticketId": tid, "to": "RESOLVED", "resolution": "ok"}}, agent
        )
    )["transitionTicket"]
    assert refused["ticket"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_TRANSITION", "force")
    ]
    not_forced = (
        await api.data(
            RESOLVE, {"input": {"ticketId": tid, "resolution": "ok", "force": True}}, agent
        )
    )["resolveTicket"]
    assert [e["code"] for e in not_forced["userErrors"]] == ["FORBIDDEN"]

    linked = _ok(
        (
            await api.data(
                LINK,
                {"input": {"fromTicketId": other, "toTicketId": tid, "kind": "RELATES_TO"}},
                agent,
            )
        )["linkTickets"]
    )["link"]
    assert (linked["kind"], linked["toTicket"]["id"]) == ("RELATES_TO", tid)
    cycle = await api.data(
        LINK, {"input": {"fromTicketId": tid, "toTicketId": tid, "kind": "BLOCKS"}}, agent
    )
    assert [e["code"] for e in cycle["linkTickets"]["userErrors"]] == ["VALIDATION"]

    logged = _ok(
        (
            await api.data(
                LOG_TIME, {"input": {"ticketId": tid, "minutes": 25, "note": "Tray"}}, agent
            )
        )["logTime"]
    )["timeEntry"]
    assert (logged["minutes"], logged["running"], logged["user"]["email"]) == (
        25,
        False,
        "agent@example.com",
    )
    _ok((await api.data(START, {"input": {"ticketId": tid}}, agent))["startTimer"])
    stopped = _ok((await api.data(STOP, token=agent))["stopTimer"])["timeEntry"]
    assert (stopped["running"], stopped["minutes"]) == (False, 0)  # the clock stood still
    denied = (await api.data(LOG_TIME, {"input": {"ticketId": tid, "minutes": 5}}, rita))["logTime"]
    assert [e["code"] for e in denied["userErrors"]] == ["FORBIDDEN"]

    # `force` also sits on transitionTicket: refused for an agent (nothing changes) ...
    force_input = {"ticketId": tid, "to": "RESOLVED", "resolution": "ok", "force": True}
    agent_forced = (await api.data(TRANSITION, {"input": force_input}, agent))["transitionTicket"]
    assert [e["code"] for e in agent_forced["userErrors"]] == ["FORBIDDEN"]
    assert (await api.data(TICKET, {"id": tid}, agent))["ticket"]["status"] == "IN_PROGRESS"
    # ... and honoured for the manager.
    forced = _ok((await api.data(TRANSITION, {"input": force_input}, manager))["transitionTicket"])
    assert forced["ticket"]["status"] == "RESOLVED"

    rated = _ok(
        (await api.data(RATE, {"input": {"ticketId": tid, "score": 5, "comment": "Great"}}, rita))[
            "rateTicket"
        ]
    )["rating"]
    assert (rated["score"], rated["rater"]["email"]) == (5, "requester@example.com")
    again = (await api.data(RATE, {"input": {"ticketId": tid, "score": 1}}, rita))["rateTicket"]
    assert [e["code"] for e in again["userErrors"]] == ["CONFLICT"]

    staff_view = (await api.data(TICKET, {"id": tid}, agent))["ticket"]
    assert staff_view["timeSpentMinutes"] == 25
    assert [(t["title"], t["done"]) for t in staff_view["tasks"]] == [
        ("Test", True),
        ("Clear tray", False),
    ]
    assert staff_view["links"] == [
        {"kind": "RELATES_TO", "fromTicket": {"id": other}, "toTicket": {"id": tid}}
    ]
    assert [e["minutes"] for e in staff_view["timeEntries"]] == [25, 0]
    assert staff_view["rating"] == {"score": 5, "comment": "Great"}

    requester_view = (await api.data(TICKET, {"id": tid}, rita))["ticket"]
    assert requester_view["tasks"] == [] and requester_view["timeEntries"] == []
    assert requester_view["timeSpentMinutes"] is None
    assert requester_view["rating"] == {"score": 5, "comment": "Great"}

    # node(id) finds each collaboration object for staff; for the requester, tasks, time and
    # draft articles are NOT_FOUND, a link between two of their own tickets is visible.
    draft = _ok(
        (await api.data(CAPTURE, {"input": {"ticketId": tid, "publish": False}}, token=agent))[
            "captureKnowledge"
        ]
    )["article"]
    objects = {
        "Task": first["id"],
        "TicketLink": linked["id"],
        "TimeEntry": logged["id"],
        "KnowledgeArticle": draft["id"],
    }
    for type_name, gid in objects.items():
        found = (await api.data(NODE, {"id": gid}, agent))["node"]
        assert (found["__typename"], found["id"]) == (type_name, gid)
    for type_name in ("Task", "TimeEntry", "KnowledgeArticle"):
        hidden = await api.post(NODE, {"id": objects[type_name]}, rita)
        assert hidden["data"]["node"] is None
        assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    own_link = (await api.data(NODE, {"id": linked["id"]}, rita))["node"]
    assert own_link["__typename"] == "TicketLink"

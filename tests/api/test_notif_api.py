"""Notifications over GraphQL on both databases: the inbox and read marks, preferences and
admin defaults, the admins' delivery list, node(id) and retrying a failed delivery."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from sets.models import Notification
from sets.schema.ids import parse_global_id, to_global_id
from sets.services.container import Services
from tests.api.conftest import Api
from tests.documents import COMMENT, CREATE_TICKET, ME

NOTIFICATIONS = """
query Inbox($first: Int, $after: String, $unreadOnly: Boolean) {
  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
    totalCount unreadCount
    pageInfo { hasNextPage endCursor }
    nodes { id channel event subject body status attempts createdAt sentAt readAt
            ticket { key } }
  }
}"""

MARK_READ = """
mutation Read($input: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $input) {
    markedCount unreadCount notifications { id readAt }
    userErrors { field message code }
  }
}"""

PREFERENCES = "query { notificationPreferences { event channel enabled source } }"

UPDATE_PREFERENCES = """
mutation Prefs($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) {
    preferences { event channel enabled source } userErrors { field message code }
  }
}"""

DEFAULTS = """
query Defaults($audience: NotificationAudience!) {
  notificationDefaults(audience: $audience) { event channel enabled source }
}"""

UPDATE_DEFAULTS = """
mutation Defaults($input: UpdateNotificationDefaultsInput!) {
  updateNotificationDefaults(input: $input) {
    preferences { event channel enabled source } userErrors { field message code }
  }
}"""

DELIVERIES = """
query Deliveries($first: Int, $after: String, $filter: NotificationDeliveryFilter) {
  notificationDeliveries(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id channel event subject status attempts lastError createdAt sentAt
            nextAttemptAt target simulated recipient { username } ticket { key } }
  }
}"""

RETRY = """
mutation Retry($input: RetryNotificationInput!) {
  retryNotification(input: $input) {
    delivery { id status attempts lastError } userErrors { field message code }
  }
}"""

NODE = "query Node($id: ID!) { node(id: $id) { id ... on Notification { subject channel } } }"


async def open_ticket(api: Api, token: str, title: str = "Scanner offline") -> dict[str, Any]:
    created = (
        await api.data(
            CREATE_TICKET,
            {"input": {"title": title, "description": "It shows E-7."}},
            token=token,
        )
    )["createTicket"]
    assert created["userErrors"] == []
    ticket: dict[str, Any] = created["ticket"]
    return ticket


async def inbox(api: Api, token: str, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(NOTIFICATIONS, variables, token=token))["notifications"]
    return found


async def test_the_inbox_and_read_marks(api: Api) -> None:
    rita = await api.login("requester@example.com")
    before = await inbox(api, rita)
    ticket = await open_ticket(api, rita)
    after = await inbox(api, rita, first=1)
    assert after["totalCount"] == before["totalCount"] + 1
    assert after["unreadCount"] == before["unreadCount"] + 1
    [newest] = after["nodes"]
    assert newest["channel"] == "IN_APP" and newest["event"] == "CREATED"
    assert newest["status"] == "SENT" and newest["readAt"] is None
    assert newest["subject"] == f"[{ticket['key']}] Received: Scanner offline"
    assert newest["ticket"] == {"key": ticket["key"]}
    assert after["pageInfo"]["hasNextPage"] is (after["totalCount"] > 1)
    if after["pageInfo"]["hasNextPage"]:
        rest = await inbox(api, rita, first=100, after=after["pageInfo"]["endCursor"])
        assert newest["id"] not in {n["id"] for n in rest["nodes"]}
        assert len(rest["nodes"]) == after["totalCount"] - 1

    marked = (await api.data(MARK_READ, {"input": {"ids": [newest["id"]]}}, token=rita))[
        "markNotificationsRead"
    ]
    assert marked["userErrors"] == [] and marked["markedCount"] == 1
    assert marked["notifications"][0]["readAt"] is not None
    assert marked["unreadCount"] == after["unreadCount"] - 1
    unread = await inbox(api, rita, unreadOnly=True, first=100)
    assert newest["id"] not in {n["id"] for n in unread["nodes"]}

    # Somebody else's notification is not found; nothing is marked then.
    manager = await api.login("manager@example.com")
    theirs = (await inbox(api, manager, first=1))["nodes"][0]["id"]
    refused = (await api.data(MARK_READ, {"input": {"ids": [theirs]}}, token=rita))[
        "markNotificationsRead"
    ]
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
    both = (await api.data(MARK_READ, {"input": {"ids": [], "all": True}}, token=rita))[
        "markNotificationsRead"
    ]
    assert [e["code"] for e in both["userErrors"]] == ["VALIDATION"]
    everything = (await api.data(MARK_READ, {"input": {"all": True}}, token=rita))[
        "markNotificationsRead"
    ]
    assert everything["unreadCount"] == 0

    node = (await api.data(NODE, {"id": newest["id"]}, token=rita))["node"]
    assert node["channel"] == "IN_APP"
    hidden = await api.post(NODE, {"id": theirs}, token=rita)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_preferences_and_defaults(api: Api) -> None:
    rita = await api.login("requester@example.com")
    agent = await api.login("agent@example.com")
    cells = (await api.data(PREFERENCES, token=rita))["notificationPreferences"]
    assert {c["channel"] for c in cells} == {"IN_APP", "EMAIL", "SMS"}
    changed = (
        await api.data(
            UPDATE_PREFERENCES,
            {
                "input": {
                    "preferences": [{"event": "COMMENTED", "channel": "EMAIL", "enabled": False}]
                }
            },
            token=rita,
        )
    )["updateNotificationPreferences"]
    assert changed["userErrors"] == []
    mine = {(c["event"], c["channel"]): c for c in changed["preferences"]}
    assert mine[("COMMENTED", "EMAIL")] == {
        "event": "COMMENTED",
        "channel": "EMAIL",
        "enabled": False,
        "source": "USER",
    }
    refused = (
        await api.data(
            UPDATE_PREFERENCES,
            {
                "input": {
                    "preferences": [{"event": "COMMENTED", "channel": "SLACK", "enabled": True}]
                }
            },
            token=rita,
        )
    )["updateNotificationPreferences"]
    assert [e["code"] for e in refused["userErrors"]] == ["VALIDATION"]

    # The agent's reply now reaches Rita in the app only.
    admin = await api.login("admin@example.com")
    me = (await api.data(ME, token=rita))["me"]["id"]
    mails = {"recipientId": me, "ticketId": "SETS-1", "channels": ["EMAIL"]}
    mails_before = (await api.data(DELIVERIES, {"filter": mails}, token=admin))[
        "notificationDeliveries"
    ]["totalCount"]
    before = await inbox(api, rita)
    reply = await api.data(
        COMMENT, {"input": {"ticketId": "SETS-1", "body": "Is it plugged in?"}}, token=agent
    )
    assert reply["addComment"]["userErrors"] == []
    assert (await inbox(api, rita))["totalCount"] == before["totalCount"] + 1
    mails_after = (await api.data(DELIVERIES, {"filter": mails}, token=admin))[
        "notificationDeliveries"
    ]["totalCount"]
    assert mails_after == mails_before

    forbidden = (
        await api.data(
            UPDATE_DEFAULTS,
            {"input": {"audience": "STAFF", "preferences": []}},
            token=agent,
        )
    )["updateNotificationDefaults"]
    assert [e["code"] for e in forbidden["userErrors"]] == ["FORBIDDEN"]
    defaults = (
        await api.data(
            UPDATE_DEFAULTS,
            {
                "input": {
                    "audience": "STAFF",
                    "preferences": [{"event": "ESCALATED", "channel": "SLACK", "enabled": True}],
                }
            },
            token=admin,
        )
    )["updateNotificationDefaults"]
    assert defaults["userErrors"] == []
    by_key = {(c["event"], c["channel"]): c for c in defaults["preferences"]}
    assert by_key[("ESCALATED", "SLACK")]["source"] == "DEFAULT"
    staff = (await api.data(DEFAULTS, {"audience": "STAFF"}, token=admin))["notificationDefaults"]
    assert {(c["event"], c["channel"], c["source"]) for c in staff} >= {
        ("ESCALATED", "SLACK", "DEFAULT"),
        ("ASSIGNED", "SLACK", "BUILT_IN"),
    }
    agent_cells = (await api.data(PREFERENCES, token=agent))["notificationPreferences"]
    assert {(c["event"], c["channel"], c["enabled"], c["source"]) for c in agent_cells} >= {
        ("ESCALATED", "SLACK", True, "DEFAULT")
    }
    denied = await api.post(DEFAULTS, {"audience": "STAFF"}, token=agent)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_admins_list_deliveries_and_retry_failures(api: Api, services: Services) -> None:
    admin = await api.login("admin@example.com")
    agent = await api.login("agent@example.com")
    denied = await api.post(DELIVERIES, token=agent)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    pending = (
        await api.data(
            DELIVERIES, {"filter": {"statuses": ["PENDING"], "channels": ["EMAIL"]}}, token=admin
        )
    )["notificationDeliveries"]
    assert pending["totalCount"] >= 1
    first = pending["nodes"][0]
    assert (first["channel"], first["status"], first["attempts"]) == ("EMAIL", "PENDING", 0)
    assert first["target"] is None and first["simulated"] is None
    _, pk = parse_global_id(first["id"])

    outcome = await services.deliveries.deliver(pk)
    assert outcome.result.value == "SENT"
    sent = (await api.data(DELIVERIES, {"filter": {"statuses": ["SENT"]}}, token=admin))[
        "notificationDeliveries"
    ]
    mine = next(n for n in sent["nodes"] if n["id"] == first["id"])
    assert mine["simulated"] is True and mine["target"].endswith(f"mail/{pk}.eml")
    assert mine["attempts"] == 1 and mine["sentAt"] is not None

    async with services.db.writer() as session, session.begin():
        await session.execute(
            update(Notification)
            .where(Notification.id == pk)
            .values(status="FAILED", attempts=5, last_error="SMTP refused: 550 no such user")
        )
    failed = (await api.data(DELIVERIES, {"filter": {"statuses": ["FAILED"]}}, token=admin))[
        "notificationDeliveries"
    ]
    [shown] = [n for n in failed["nodes"] if n["id"] == first["id"]]
    assert shown["lastError"] == "SMTP refused: 550 no such user"
    retried = (await api.data(RETRY, {"input": {"id": first["id"]}}, token=admin))[
        "retryNotification"
    ]
    assert retried["userErrors"] == []
    assert (retried["delivery"]["status"], retried["delivery"]["attempts"]) == ("PENDING", 0)
    again = (await api.data(RETRY, {"input": {"id": first["id"]}}, token=admin))[
        "retryNotification"
    ]
    assert [e["code"] for e in again["userErrors"]] == ["VALIDATION"]
    missing = (
        await api.data(RETRY, {"input": {"id": to_global_id("Notification", 10**9)}}, token=admin)
    )["retryNotification"]
    assert [e["code"] for e in missing["userErrors"]] == ["NOT_FOUND"]

    page = (await api.data(DELIVERIES, {"first": 2}, token=admin))["notificationDeliveries"]
    nxt = (
        await api.data(
            DELIVERIES, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=admin
        )
    )["notificationDeliveries"]
    assert {n["id"] for n in page["nodes"]}.isdisjoint({n["id"] for n in nxt["nodes"]})

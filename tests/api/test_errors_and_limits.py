"""Bad input gets a clear, coded answer and changes nothing; limits refuse abusive queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sets.domain.clock import FixedClock
from sets.services.container import Services
from tests.api.conftest import Api
from tests.documents import (
    ASSIGN,
    CREATE_TICKET,
    DASHBOARD,
    ESCALATE,
    LOGIN,
    TICKET_EVENTS,
    UPDATE,
)

COUNT = "query { tickets(first: 1) { totalCount } }"


def codes(body: dict[str, object]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]  # type: ignore[attr-defined, index]


async def first_ticket_id(api: Api, token: str) -> str:
    data = await api.data("query { tickets(first: 1) { nodes { id } } }", token=token)
    ticket_id: str = data["tickets"]["nodes"][0]["id"]
    return ticket_id


async def test_queries_need_a_valid_unexpired_token(api: Api, clock: FixedClock) -> None:
    assert codes(await api.post(COUNT)) == ["UNAUTHENTICATED"]
    assert codes(await api.post(COUNT, token="not-a-jwt")) == ["UNAUTHENTICATED"]
    token = await api.login("agent@example.com")
    assert "errors" not in await api.post(COUNT, token=token)
    clock.advance(timedelta(minutes=16))
    body = await api.post(COUNT, token=token)
    assert codes(body) == ["UNAUTHENTICATED"]
    assert "expired" in body["errors"][0]["message"]


async def test_login_refusal_does_not_reveal_which_emails_exist(api: Api) -> None:
    wrong = await api.data(LOGIN, {"email": "agent@example.com", "password": "nope"})
    unknown = await api.data(LOGIN, {"email": "nobody@example.com", "password": "nope"})
    assert wrong["login"]["userErrors"] == unknown["login"]["userErrors"]
    assert wrong["login"]["userErrors"][0]["code"] == "UNAUTHENTICATED"
    assert wrong["login"]["accessToken"] is None


async def test_refresh_rotates_and_reuse_is_refused(api: Api) -> None:
    first = await api.data(LOGIN, {"email": "agent@example.com", "password": "sets-demo-password"})
    refresh = first["login"]["refreshToken"]
    rotate = (
        "mutation R($t: String!) { refreshToken(input: {refreshToken: $t}) "
        "{ accessToken refreshToken userErrors { code field } } }"
    )
    rotated = (await api.data(rotate, {"t": refresh}))["refreshToken"]
    assert rotated["userErrors"] == [] and rotated["refreshToken"] != refresh
    assert "errors" not in await api.post(COUNT, token=rotated["accessToken"])
    reused = (await api.data(rotate, {"t": refresh}))["refreshToken"]
    assert reused["userErrors"][0]["code"] == "UNAUTHENTICATED"
    # Reuse revoked the whole family, including the token handed out by the rotation.
    again = (await api.data(rotate, {"t": rotated["refreshToken"]}))["refreshToken"]
    assert again["userErrors"][0]["code"] == "UNAUTHENTICATED"


async def test_other_requesters_ticket_is_not_found(api: Api) -> None:
    rita = await api.login("requester@example.com")
    carl = await api.login("clinic@example.com")
    ticket_id = await first_ticket_id(api, carl)
    body = await api.post(TICKET_EVENTS, {"id": ticket_id}, token=rita)
    assert codes(body) == ["NOT_FOUND"]
    assert body["data"] == {"ticket": None}


async def test_staff_only_query_is_forbidden_for_requesters(api: Api) -> None:
    rita = await api.login("requester@example.com")
    body = await api.post("query { priorityRules { name } }", token=rita)
    assert codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "d" * 20001}, "description"),
        ({"description": "d" * 1_000_000}, "description"),
        ({"categoryId": "Q2F0ZWdvcnk6OTk5"}, "categoryId"),  # Category:999
        ({"categoryId": "garbage!"}, "id"),
    ],
)
async def test_invalid_ticket_input_is_refused_and_writes_nothing(
    api: Api, change: dict[str, str], field: str
) -> None:
    rita = await api.login("requester@example.com")
    before = (await api.data(COUNT, token=rita))["tickets"]["totalCount"]
    ticket_input = {"title": "Printer jam", "description": "Paper stuck.", **change}
    payload = (await api.data(CREATE_TICKET, {"input": ticket_input}, token=rita))["createTicket"]
    assert payload["ticket"] is None
    assert payload["userErrors"][0]["field"] == field
    assert payload["userErrors"][0]["code"] in ("VALIDATION", "NOT_FOUND")
    assert (await api.data(COUNT, token=rita))["tickets"]["totalCount"] == before


async def test_stale_version_is_a_conflict(api: Api) -> None:
    agent = await api.login("agent@example.com")
    ticket_id = await first_ticket_id(api, agent)
    stale = {"ticketId": ticket_id, "title": "Renamed", "expectedVersion": 0}
    payload = (await api.data(UPDATE, {"input": stale}, token=agent))["updateTicket"]
    assert payload["userErrors"] == [
        {
            "field": "expectedVersion",
            "code": "CONFLICT",
            "message": payload["userErrors"][0]["message"],
        }
    ]


async def test_bad_ticket_ids_are_coded_errors(api: Api) -> None:
    agent = await api.login("agent@example.com")
    bad = {"ticketId": "SETS-999999", "title": "x"}
    payload = (await api.data(UPDATE, {"input": bad}, token=agent))["updateTicket"]
    assert payload["userErrors"][0]["code"] == "NOT_FOUND"
    junk = {"ticketId": "%%%", "title": "x"}
    payload = (await api.data(UPDATE, {"input": junk}, token=agent))["updateTicket"]
    assert payload["userErrors"][0] == {
        "field": "ticketId",
        "code": "VALIDATION",
        "message": payload["userErrors"][0]["message"],
    }


async def test_page_size_is_capped(api: Api) -> None:
    agent = await api.login("agent@example.com")
    body = await api.post("query { tickets(first: 500) { totalCount } }", token=agent)
    assert codes(body) == ["VALIDATION"]


async def test_depth_alias_and_cost_limits(api: Api) -> None:
    agent = await api.login("agent@example.com")
    deep = "query { me { " + "teams { members { " * 6 + "id" + " } }" * 6 + " } }"
    assert codes(await api.post(deep, token=agent)) == ["BAD_REQUEST"]
    aliases = "query { " + " ".join(f"a{i}: me {{ id }}" for i in range(20)) + " }"
    assert codes(await api.post(aliases, token=agent)) == ["BAD_REQUEST"]
    costly = (
        "query { tickets(first: 100) { nodes { events(first: 100) { nodes { "
        "actor { name } ticket { events(first: 100) { nodes { kind } } } } } } } }"
    )
    body = await api.post(costly, token=agent)
    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert "data" not in body or body["data"] is None


async def test_unexpected_failure_is_masked_and_logged(
    api: Api, services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await api.login("agent@example.com")

    async def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError("secret internals: connection string postgres://...")

    monkeypatch.setattr(services.reads, "tickets", broken)
    body = await api.post(DASHBOARD, {"first": 5}, token=agent)
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "secret" not in str(body)
    assert "secret internals" in caplog.text


async def test_malformed_requests_get_400_not_500(api: Api) -> None:
    response = await api.client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    response = await api.client.post("/graphql", json={"query": "query { nope }"})
    assert response.status_code == 200
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_repeated_wrong_passwords_lock_the_account_for_a_while(
    api: Api, clock: FixedClock
) -> None:
    wrong = {"email": "agent@example.com", "password": "guess"}
    for _ in range(5):
        refused = (await api.data(LOGIN, wrong))["login"]["userErrors"]
        assert refused[0]["field"] == "password"
    right = {"email": "agent@example.com", "password": "sets-demo-password"}
    locked = (await api.data(LOGIN, right))["login"]
    assert locked["accessToken"] is None
    assert "locked" in locked["userErrors"][0]["message"]
    clock.advance(timedelta(minutes=16))
    assert (await api.data(LOGIN, right))["login"]["accessToken"]


async def test_a_success_resets_the_failure_count(api: Api) -> None:
    wrong = {"email": "agent@example.com", "password": "guess"}
    for _ in range(4):
        await api.data(LOGIN, wrong)
    await api.login("agent@example.com")
    for _ in range(4):
        await api.data(LOGIN, wrong)
    assert await api.login("agent@example.com")


async def test_wrong_role_is_refused_and_changes_nothing(api: Api) -> None:
    rita = await api.login("requester@example.com")
    agent = await api.login("agent@example.com")
    ticket_id = await first_ticket_id(api, rita)
    me = (await api.data("query { me { id } }", token=rita))["me"]["id"]
    before = (await api.data(TICKET_EVENTS, {"id": ticket_id}, token=agent))["ticket"]
    take = {"ticketId": ticket_id, "assigneeId": me}
    payload = (await api.data(ASSIGN, {"input": take}, token=rita))["assignTicket"]
    assert payload["ticket"] is None
    assert payload["userErrors"][0]["code"] == "FORBIDDEN"
    escalate = {"ticketId": ticket_id, "reason": "hurry"}
    payload = (await api.data(ESCALATE, {"input": escalate}, token=rita))["escalateTicket"]
    assert payload["userErrors"][0]["code"] == "FORBIDDEN"
    after = (await api.data(TICKET_EVENTS, {"id": ticket_id}, token=agent))["ticket"]
    assert after == before

"""Async helpers shared by the live-update end-to-end tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from sets.services.demo import DEMO_PASSWORD
from tests.documents import COMMENT, CREATE_TICKET, LOGIN, ME, UPDATE


@dataclass
class Http:
    """GraphQL over real HTTP to one `sets serve` process, on one keep-alive client."""

    url: str
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10))
    # Sign-ins are deliberately slow (argon2): reuse tokens per server and user.
    _tokens: ClassVar[dict[tuple[str, str], str]] = {}

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return dict(body["data"])

    async def login(self, email: str) -> str:
        key = (self.url, email)
        if key not in self._tokens:
            login = await self.data(LOGIN, {"email": email, "password": DEMO_PASSWORD})
            assert login["login"]["userErrors"] == [], login
            self._tokens[key] = str(login["login"]["accessToken"])
        return self._tokens[key]

    async def me(self, token: str) -> dict[str, Any]:
        me: dict[str, Any] = (await self.data(ME, {}, token))["me"]
        return me

    async def create_ticket(self, token: str, title: str, description: str = "Broken.") -> Any:
        created = (
            await self.data(
                CREATE_TICKET, {"input": {"title": title, "description": description}}, token
            )
        )["createTicket"]
        assert created["userErrors"] == [], created
        return created["ticket"]

    async def rename(self, token: str, ticket_id: str, title: str) -> None:
        result = (
            await self.data(UPDATE, {"input": {"ticketId": ticket_id, "title": title}}, token)
        )["updateTicket"]
        assert result["userErrors"] == [], result

    async def comment(
        self, token: str, ticket_id: str, body: str, *, internal: bool = False
    ) -> None:
        result = (
            await self.data(
                COMMENT,
                {"input": {"ticketId": ticket_id, "body": body, "internal": internal}},
                token,
            )
        )["addComment"]
        assert result["userErrors"] == [], result


def events_of(results: list[dict[str, Any]], ticket_id: str) -> list[dict[str, Any]]:
    """The ticketEvents results about one ticket (others, e.g. SLA sweeps, are ignored)."""
    return [r["ticketEvents"] for r in results if r["ticketEvents"]["ticket"]["id"] == ticket_id]


async def events_until(
    socket: Any, op: str, ticket_id: str, marker: str, *, within: float = 10.0
) -> list[dict[str, Any]]:
    """ticketEvents of `ticket_id` received on `op` up to and including the UPDATED event
    that renamed it to `marker` (see Http.rename). Everything committed before that sentinel
    has been delivered by then, because a feed delivers in event-id order."""
    got: list[dict[str, Any]] = []
    while True:
        event = (await socket.data(op, within=within))["ticketEvents"]
        if event["ticket"]["id"] != ticket_id:
            continue
        got.append(event)
        if event["kind"] == "UPDATED" and marker in str(event["data"]):
            return got

"""In-process GraphQL over HTTP (httpx ASGI transport) on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sets.app import create_app
from sets.services.container import Services
from sets.services.demo import DEMO_PASSWORD
from tests.documents import LOGIN


@dataclass
class Api:
    client: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.post(query, variables, token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def login(self, email: str, password: str = DEMO_PASSWORD) -> str:
        payload = (await self.data(LOGIN, {"email": email, "password": password}))["login"]
        assert payload["userErrors"] == [], payload
        token: str = payload["accessToken"]
        return token


@pytest.fixture
async def api(services: Services) -> AsyncIterator[Api]:
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sets.test") as client:
        yield Api(client)

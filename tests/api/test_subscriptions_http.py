"""Subscriptions live on websockets only: over HTTP they are refused with a coded error."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.documents import SUBSCRIBE_EVENTS


async def test_a_subscription_over_http_is_a_bad_request(api: Api) -> None:
    token = await api.login("agent@example.com")
    body = await api.post(SUBSCRIBE_EVENTS, {}, token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "websockets" in body["errors"][0]["message"]

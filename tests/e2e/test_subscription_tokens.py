"""Tokens that stop being valid during a subscription end it cleanly. A real uvicorn serves the
app in this process, so the test can move the service clock (SPEC: `now` is injected)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from sets.app import create_app
from sets.config import Settings
from sets.domain.clock import FixedClock
from sets.realtime.bus import InMemoryBus
from sets.services.container import Services, build_services
from tests.documents import SUBSCRIBE_EVENTS, UPDATE_USER
from tests.e2e.conftest import serve_in_process
from tests.e2e.live import Http
from tests.e2e.wsclient import PROTOCOLS, GraphQLSocket, ws_url

pytestmark = pytest.mark.e2e


@pytest.fixture
def backend() -> str:
    return "sqlite"


@dataclass
class Live:
    url: str
    services: Services
    clock: FixedClock


@pytest.fixture
async def live(settings: Settings, clock: FixedClock) -> AsyncIterator[Live]:
    services = build_services(
        replace(settings, ws_recheck_seconds=0.1), clock=clock, bus=InMemoryBus()
    )
    async with serve_in_process(create_app(services=services)) as url:
        yield Live(url, services, clock)  # leaving: the app's lifespan closes the services


async def _watch(live: Live, http: Http, protocol: str, email: str) -> tuple[GraphQLSocket, str]:
    token = await http.login(email)
    socket = await GraphQLSocket.open(
        ws_url(live.url), protocol, {"Authorization": f"Bearer {token}"}
    )
    op = await socket.subscribe(SUBSCRIBE_EVENTS)
    await asyncio.sleep(0.1)
    rita = await http.login("requester@example.com")
    await http.create_ticket(rita, "Still listening?")
    assert (await socket.data(op))["ticketEvents"]["kind"] == "CREATED"
    return socket, op


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_token_expiring_during_a_subscription_ends_it_cleanly(
    live: Live, protocol: str
) -> None:
    async with Http(live.url) as http:
        socket, op = await _watch(live, http, protocol, "agent@example.com")
        async with socket:
            live.clock.advance(timedelta(minutes=16))  # access tokens last 15 minutes
            ending = await socket.ended(op, within=3)
            assert ending[-1]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert "expired" in ending[-1]["errors"][0]["message"]
            # The connection stays usable for nothing else with that token.
            again = await socket.subscribe(SUBSCRIBE_EVENTS)
            refused = await socket.ended(again, within=3)
            assert refused[0]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_token_revoked_during_a_subscription_ends_it(live: Live, protocol: str) -> None:
    async with Http(live.url) as http:
        socket, op = await _watch(live, http, protocol, "senior@example.com")
        admin = await http.login("admin@example.com")
        senior = await http.login("senior@example.com")
        senior_id = (await http.me(senior))["id"]
        async with socket:
            # Deactivation signs the user out everywhere, open subscriptions included.
            done = await http.data(
                UPDATE_USER, {"input": {"userId": senior_id, "active": False}}, admin
            )
            assert done["updateUser"]["userErrors"] == []
            ending = await socket.ended(op, within=3)
            assert ending[-1]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

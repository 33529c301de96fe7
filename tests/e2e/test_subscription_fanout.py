"""Fan-out at scale (issue 8): shared executions and frames (`schema.live_frames`), batched
sign-in reads (`services.auth.UserReads`) and one replay floor per process
(`LocalHub.latest_id`), over real websockets to a real uvicorn, on SQLite and PostgreSQL with
the Redis bus. The app runs in this process so the tests can look at the shared state.

`SetsGraphQL` wires the live protocol handlers (`LiveTransportWS`, `LiveLegacyWS`), so every
subscription test runs through them; these look at what they share."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from starlette.applications import Starlette

from sets.app import SetsGraphQL, create_app
from sets.config import Settings
from sets.domain.clock import FixedClock
from sets.realtime.redis_bus import RedisBus
from sets.schema.live_frames import LiveLegacyWS, LiveTransportWS, shared_results
from sets.services.container import Services, build_services
from sets.services.demo import DEMO_PASSWORD
from tests.documents import ASSIGN, CREATE_USER, UPDATE_USER
from tests.e2e.conftest import serve_in_process
from tests.e2e.live import Http
from tests.e2e.wsclient import PROTOCOLS, TRANSPORT_WS, GraphQLSocket, Refused, ws_url
from tests.redis_support import REDIS_URL, kill_pubsub, require_redis, unique_prefix

pytestmark = pytest.mark.e2e

WITH_VIEWER_FIELDS = """
subscription Board($filter: TicketEventFilter) {
  ticketEvents(filter: $filter) { kind internal data ticket { id title canWork } }
}"""
EVENT_FIELDS_ONLY = """
subscription Feed($filter: TicketEventFilter) {
  ticketEvents(filter: $filter) { id cursor kind internal data ...More }
}
fragment More on TicketEvent { seq createdAt }"""
ANY_EVENT = "subscription { ticketEvents { id kind } }"


def assert_live_handlers(app: Starlette) -> None:
    views = [r.app for r in app.routes if isinstance(getattr(r, "app", None), SetsGraphQL)]
    assert views
    for view in views:
        assert view.graphql_transport_ws_handler_class is LiveTransportWS
        assert view.graphql_ws_handler_class is LiveLegacyWS


@dataclass
class Live:
    url: str
    services: Services
    prefix: str


@pytest.fixture
async def live(settings: Settings, clock: FixedClock) -> AsyncIterator[Live]:
    await require_redis()
    prefix = unique_prefix()
    services = build_services(
        replace(settings, redis_url=REDIS_URL, redis_prefix=prefix, ws_recheck_seconds=0.2),
        clock=clock,
    )
    app = create_app(services=services)
    assert_live_handlers(app)
    async with serve_in_process(app) as url:
        assert isinstance(services.bus, RedisBus)
        async with asyncio.timeout(5):
            await services.bus.wait_connected()
        yield Live(url, services, prefix)  # leaving: the app's lifespan closes the services


async def _sockets(live: Live, token: str, count: int, protocol: str) -> list[GraphQLSocket]:
    payload = {"Authorization": f"Bearer {token}"}
    return list(
        await asyncio.gather(
            *(GraphQLSocket.open(ws_url(live.url), protocol, payload) for _ in range(count))
        )
    )


async def _subscribe_all(
    sockets: list[GraphQLSocket], query: str, variables: dict[str, Any]
) -> list[str]:
    return [await socket.subscribe(query, variables) for socket in sockets]


async def _take(sockets: list[GraphQLSocket], ops: list[str], count: int) -> list[list[Any]]:
    """`count` ticketEvents from each socket's operation."""
    return [
        [(await socket.data(op))["ticketEvents"] for _ in range(count)]
        for socket, op in zip(sockets, ops, strict=True)
    ]


async def _close(*groups: list[GraphQLSocket]) -> None:
    for group in groups:
        for socket in group:
            await socket.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_viewers_never_share_a_result_and_requesters_never_see_internal_notes(
    live: Live, protocol: str
) -> None:
    async with Http(live.url) as http:
        admin, agent = await http.login("admin@example.com"), await http.login("agent@example.com")
        rita, vendor = (
            await http.login("requester@example.com"),
            await http.login("vendor@example.com"),
        )
        ticket = await http.create_ticket(rita, "Badge reader dead")
        agent_id = (await http.me(agent))["id"]
        assigned = await http.data(
            ASSIGN, {"input": {"ticketId": ticket["id"], "assigneeId": agent_id}}, admin
        )
        assert assigned["assignTicket"]["userErrors"] == []
        groups = {
            name: await _sockets(live, token, 3, protocol)
            for name, token in [("admin", admin), ("agent", agent), ("rita", rita)]
        }
        outsider = await _sockets(live, vendor, 1, protocol)
        variables = {"filter": {"ticketId": ticket["id"]}}
        ops = {
            name: await _subscribe_all(s, WITH_VIEWER_FIELDS, variables)
            for name, s in groups.items()
        }
        outsider_ops = await _subscribe_all(outsider, WITH_VIEWER_FIELDS, variables)
        await asyncio.sleep(0.3)  # the subscriptions reach the bus
        shared = shared_results(live.services)
        before = shared.executions

        await http.comment(agent, ticket["id"], "Requester keeps unplugging it", internal=True)
        await http.comment(agent, ticket["id"], "A technician is on the way")
        await http.rename(rita, ticket["id"], "Badge reader dead (done)")

        seen = {
            name: await _take(groups[name], ops[name], 3 if name != "rita" else 2)
            for name in groups
        }
        await outsider[0].nothing_for(outsider_ops[0], 0.3)
        await groups["rita"][0].nothing_for(ops["rita"][0], 0.3)
        await _close(*groups.values(), outsider)

    for name, results in seen.items():
        # Every connection of one user got the very same results.
        assert all(result == results[0] for result in results), name
    staff_kinds = [(e["kind"], e["internal"]) for e in seen["agent"][0]]
    assert staff_kinds == [("COMMENTED", True), ("COMMENTED", False), ("UPDATED", False)]
    assert [(e["kind"], e["internal"]) for e in seen["admin"][0]] == staff_kinds
    assert [(e["kind"], e["internal"]) for e in seen["rita"][0]] == staff_kinds[1:]
    assert "unplugging" not in str(seen["rita"])
    # canWork is the viewer's own: the assignee and an admin may work it, the requester not.
    assert {e["ticket"]["canWork"] for e in seen["agent"][0]} == {True}
    assert {e["ticket"]["canWork"] for e in seen["admin"][0]} == {True}
    assert {e["ticket"]["canWork"] for e in seen["rita"][0]} == {False}
    # One execution per event and viewer (3 + 3 + 2), not one per subscriber (24).
    assert shared.executions - before <= 8


async def test_a_selection_of_event_fields_only_is_shared_by_everyone_who_may_see_the_event(
    live: Live,
) -> None:
    async with Http(live.url) as http:
        agent, rita = (
            await http.login("agent@example.com"),
            await http.login("requester@example.com"),
        )
        ticket = await http.create_ticket(rita, "Projector flickers")
        agents = await _sockets(live, agent, 2, TRANSPORT_WS)
        ritas = await _sockets(live, rita, 2, TRANSPORT_WS)
        variables = {"filter": {"ticketId": ticket["id"]}}
        agent_ops = await _subscribe_all(agents, EVENT_FIELDS_ONLY, variables)
        rita_ops = await _subscribe_all(ritas, EVENT_FIELDS_ONLY, variables)
        await asyncio.sleep(0.3)
        shared = shared_results(live.services)
        before = shared.executions

        await http.comment(
            agent, ticket["id"], "Could be the cable, or the requester", internal=True
        )
        await http.comment(agent, ticket["id"], "Swapping the cable")

        agent_saw = await _take(agents, agent_ops, 2)
        rita_saw = await _take(ritas, rita_ops, 1)
        await ritas[0].nothing_for(rita_ops[0], 0.3)
        await _close(agents, ritas)

    assert [e["internal"] for e in agent_saw[0]] == [True, False]
    # The public event's result is one and the same for the requester and the agent...
    assert rita_saw[0][0] == rita_saw[1][0] == agent_saw[0][1] == agent_saw[1][1]
    # ... and the internal one never reached the requester.
    assert [e["internal"] for e in rita_saw[0]] == [False]
    # One execution per event, whoever receives it.
    assert shared.executions - before == 2


async def test_connects_share_their_user_reads_and_a_revoked_token_is_refused_at_once(
    live: Live,
) -> None:
    reads = live.services.auth.user_reads
    async with Http(live.url) as http:
        tokens = [
            await http.login(email)
            for email in ("admin@example.com", "agent@example.com", "requester@example.com")
        ]
        before = reads.statements
        sockets = [
            socket
            for group in await asyncio.gather(
                *(_sockets(live, token, 15, TRANSPORT_WS) for token in tokens)
            )
            for socket in group
        ]
        assert len(sockets) == 45 and all(s.ack["userId"] for s in sockets)
        # A statement per round trip, for every connection asking meanwhile: not 45.
        assert reads.statements - before < 15
        await _close(sockets)

        admin = tokens[0]
        email = f"leaver-{uuid.uuid4().hex[:8]}@example.com"
        made = await http.data(
            CREATE_USER,
            {"input": {"email": email, "name": "L", "role": "AGENT", "password": DEMO_PASSWORD}},
            admin,
        )
        assert made["createUser"]["userErrors"] == []
        leaver = await http.login(email)
        leaver_id = (await http.me(leaver))["id"]
        [open_socket] = await _sockets(live, leaver, 1, TRANSPORT_WS)
        op = await open_socket.subscribe(ANY_EVENT)
        # Connections just made share reads with this one, which must still see the change.
        others = asyncio.gather(*(_sockets(live, tokens[1], 5, TRANSPORT_WS) for _ in range(3)))
        done = await http.data(
            UPDATE_USER, {"input": {"userId": leaver_id, "active": False}}, admin
        )
        assert done["updateUser"]["userErrors"] == []
        with pytest.raises(Refused):
            await GraphQLSocket.open(
                ws_url(live.url), TRANSPORT_WS, {"Authorization": f"Bearer {leaver}"}
            )
        # The open subscription ends at its next re-check (0.2 s here).
        ending = await open_socket.ended(op, within=3)
        assert ending[-1]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        await open_socket.close()
        await _close([s for group in await others for s in group])


async def test_subscriptions_without_a_cursor_share_one_floor_read_and_miss_nothing(
    live: Live,
) -> None:
    reads = live.services.reads
    calls = 0
    latest = reads.latest_event_id

    async def counted() -> int:
        nonlocal calls
        calls += 1
        return await latest()

    reads.latest_event_id = counted  # type: ignore[method-assign]
    async with Http(live.url) as http:
        agent, rita = (
            await http.login("agent@example.com"),
            await http.login("requester@example.com"),
        )
        old = await http.create_ticket(rita, "Before anyone listened")
        sockets = await _sockets(live, agent, 10, TRANSPORT_WS)
        ops = await _subscribe_all(sockets, ANY_EVENT, {})
        await asyncio.sleep(0.3)
        assert calls == 1  # one read of the newest event id for ten subscriptions
        new = await http.create_ticket(rita, "After")
        firsts = await _take(sockets, ops, 1)
        assert {e[0]["kind"] for e in firsts} == {"CREATED"}
        assert {e[0]["id"] for e in firsts} != {old["id"]}
        assert len({e[0]["id"] for e in firsts}) == 1

        # The pub/sub link drops: messages may have been missed, so the floor is read again.
        assert await kill_pubsub(live.prefix) == 1
        bus = live.services.bus
        assert isinstance(bus, RedisBus)
        async with asyncio.timeout(10):
            while True:  # the bus counts reconnects; it has no event for them
                if bus.reconnects >= 1 and bus.connected:
                    break
                await asyncio.sleep(0.05)
        [late] = await _sockets(live, agent, 1, TRANSPORT_WS)
        late_op = await late.subscribe(ANY_EVENT)
        await asyncio.sleep(0.3)
        assert calls == 2
        third = await http.create_ticket(rita, "After the reconnect")
        late_first = (await late.data(late_op))["ticketEvents"]
        assert late_first["kind"] == "CREATED"
        for socket, op in zip(sockets, ops, strict=True):
            assert (await socket.data(op))["ticketEvents"]["kind"] == "CREATED"
        await _close(sockets, [late])
    assert new["id"] != third["id"]

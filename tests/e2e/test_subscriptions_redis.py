"""Scale-out (SPEC §15): two `sets serve` processes sharing PostgreSQL and Redis, real
websocket clients, and a Redis pub/sub connection killed mid-stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from sets.config import Settings
from sets.realtime.redis_bus import RedisBus
from sets.schema.ids import parse_global_id
from sets.services.container import Services, build_services
from sets.services.inapp import InAppNotifications
from tests.conftest import PG_URL, RUN, TEST_SECRET, PgTemplates, _pg_admin, run_sync
from tests.documents import SUBSCRIBE_EVENTS, SUBSCRIBE_NOTIFICATIONS
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.live import Http, events_until
from tests.e2e.wsclient import PROTOCOLS, TRANSPORT_WS, GraphQLSocket, ws_url
from tests.redis_support import REDIS_URL, kill_pubsub, pubsub_clients, require_redis, unique_prefix

pytestmark = pytest.mark.e2e


class Cluster:
    def __init__(self, a: Server, b: Server, database_url: str, prefix: str) -> None:
        self.a, self.b = a, b
        self.database_url, self.prefix = database_url, prefix


@pytest.fixture(scope="module")
def cluster(
    pg_templates: PgTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    run_sync(require_redis)
    name = f"sets_live_{RUN}_{uuid.uuid4().hex[:8]}"
    template = pg_templates.get(True)
    run_sync(lambda: _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    prefix = unique_prefix()
    env = {"SETS_REDIS_URL": REDIS_URL, "SETS_REDIS_PREFIX": prefix}
    workdir: Path = tmp_path_factory.mktemp("cluster")
    a = start_server(url, workdir, env=env)
    try:
        b = start_server(url, workdir, env=env)
    except BaseException:
        stop_server(a)
        raise
    try:
        yield Cluster(a, b, url, prefix)
    finally:
        stop_server(a)
        stop_server(b)
        run_sync(lambda: _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def connect(server: Server, protocol: str, token: str) -> GraphQLSocket:
    return await GraphQLSocket.open(
        ws_url(server.url), protocol, {"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
async def via_a(cluster: Cluster) -> AsyncIterator[Http]:
    async with Http(cluster.a.url) as http:
        yield http


@pytest.fixture
async def via_b(cluster: Cluster) -> AsyncIterator[Http]:
    async with Http(cluster.b.url) as http:
        yield http


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_subscriber_on_one_process_sees_a_mutation_made_through_the_other(
    cluster: Cluster, via_a: Http, via_b: Http, protocol: str
) -> None:
    agent_on_a = await via_a.login("agent@example.com")
    rita_on_b = await via_b.login("requester@example.com")
    async with await connect(cluster.a, protocol, agent_on_a) as socket:
        op = await socket.subscribe(SUBSCRIBE_EVENTS)
        await asyncio.sleep(0.2)
        ticket = await via_b.create_ticket(rita_on_b, "Made on B")
        await via_b.rename(rita_on_b, ticket["id"], "seen-on-a")
        saw = await events_until(socket, op, ticket["id"], "seen-on-a")
    assert [e["kind"] for e in saw] == ["CREATED", "UPDATED"]
    assert saw[0]["actor"] == {"name": "Rita Requester"}


async def test_each_process_holds_one_pubsub_connection_however_many_subscribers(
    cluster: Cluster, via_a: Http
) -> None:
    agent = await via_a.login("agent@example.com")
    sockets = [await connect(cluster.a, TRANSPORT_WS, agent) for _ in range(4)]
    try:
        for socket in sockets:
            for _ in range(3):
                await socket.subscribe(SUBSCRIBE_EVENTS)
        await asyncio.sleep(0.2)
        clients = await pubsub_clients(cluster.prefix)
        assert len(clients) == 2, clients  # A and B: not one per websocket or subscription
    finally:
        for socket in sockets:
            await socket.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_killing_the_redis_connections_mid_stream_loses_no_event(
    cluster: Cluster, via_a: Http, via_b: Http, protocol: str
) -> None:
    agent_on_a = await via_a.login("agent@example.com")
    agent_on_b, rita_on_b = (
        await via_b.login("agent@example.com"),
        await via_b.login("requester@example.com"),
    )
    ticket = await via_b.create_ticket(rita_on_b, "Through the outage")
    before = {c["id"] for c in await pubsub_clients(cluster.prefix)}
    assert len(before) == 2

    async def keep_writing() -> None:
        for n in range(30):
            await via_b.comment(agent_on_b, ticket["id"], f"comment {n}")
            if n in (8, 20):
                # Both processes lose their pub/sub connection (as on a Redis restart);
                # writes go on meanwhile.
                await both_connected(cluster)
                assert await kill_pubsub(cluster.prefix) == 2
        await via_b.rename(rita_on_b, ticket["id"], "outage-done")

    async with await connect(cluster.a, protocol, agent_on_a) as socket:
        op = await socket.subscribe(SUBSCRIBE_EVENTS, {"filter": {"ticketId": ticket["id"]}})
        await asyncio.sleep(0.2)
        writer = asyncio.create_task(keep_writing())
        saw = await events_until(socket, op, ticket["id"], "outage-done", within=15)
        await writer
        await socket.nothing_for(op, 0.3)
    seqs = [e["seq"] for e in saw]
    assert seqs == list(range(2, 2 + 30 + 1)), seqs  # every comment and the rename, once
    assert not (await both_connected(cluster)) & before  # both came back, on new connections


async def both_connected(cluster: Cluster, within: float = 5.0) -> set[str]:
    """The ids of the two processes' pub/sub connections, once both are (re)connected."""
    async with asyncio.timeout(within):
        while True:
            found = {c["id"] for c in await pubsub_clients(cluster.prefix)}
            if len(found) == 2:
                return found
            await asyncio.sleep(0.02)


@pytest.fixture
async def worker(cluster: Cluster) -> AsyncIterator[Services]:
    """A third process (as the notifications worker will be) on the same database and bus."""
    bus = RedisBus(REDIS_URL, prefix=cluster.prefix)
    services = build_services(
        Settings(database_url=cluster.database_url, jwt_secret=TEST_SECRET), bus=bus
    )
    await bus.start()
    try:
        async with asyncio.timeout(5):
            await bus.wait_connected()
        yield services
    finally:
        await bus.stop()
        await services.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_in_app_notifications_reach_their_recipient_only(
    cluster: Cluster, via_a: Http, via_b: Http, worker: Services, protocol: str
) -> None:
    agent = await via_a.login("agent@example.com")
    senior = await via_b.login("senior@example.com")
    _, agent_pk = parse_global_id((await via_a.me(agent))["id"])
    _, senior_pk = parse_global_id((await via_b.me(senior))["id"])
    inbox = InAppNotifications(worker.uow)
    async with (
        await connect(cluster.a, protocol, agent) as agent_socket,
        await connect(cluster.b, protocol, senior) as senior_socket,
    ):
        agent_op = await agent_socket.subscribe(SUBSCRIBE_NOTIFICATIONS)
        senior_op = await senior_socket.subscribe(SUBSCRIBE_NOTIFICATIONS)
        await asyncio.sleep(0.2)
        await inbox.send(senior_pk, event="MENTIONED", subject="For senior", body="Hi senior")
        await inbox.send(agent_pk, event="ASSIGNED", subject="For agent", body="Take SETS-1")
        got = (await agent_socket.data(agent_op))["notificationReceived"]
        other = (await senior_socket.data(senior_op))["notificationReceived"]
        await agent_socket.nothing_for(agent_op, 0.2)
    assert {k: got[k] for k in ("channel", "event", "subject", "body", "status")} == {
        "channel": "IN_APP",
        "event": "ASSIGNED",
        "subject": "For agent",
        "body": "Take SETS-1",
        "status": "SENT",
    }
    assert other["subject"] == "For senior"

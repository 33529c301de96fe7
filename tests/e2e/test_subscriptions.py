"""Live updates end to end: a real `sets serve` (embedded in-memory bus, SQLite) and real
websocket clients speaking both GraphQL websocket protocols."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from websockets.exceptions import ConnectionClosed

from sets.config import Settings
from sets.schema.ids import parse_global_id
from sets.services.container import Services, build_services
from sets.services.demo import DEMO_PASSWORD
from tests.conftest import TEST_SECRET, SqliteTemplates
from tests.documents import (
    ASSIGN,
    CREATE_USER,
    SUBSCRIBE_EVENTS,
    SUBSCRIBE_TICKET,
    TICKET_EVENTS,
    TRANSITION,
    UPDATE_USER,
)
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.live import Http, events_until
from tests.e2e.wsclient import LEGACY_WS, PROTOCOLS, TRANSPORT_WS, GraphQLSocket, Refused, ws_url
from tests.helpers import actor_of

pytestmark = pytest.mark.e2e

QUIET = {"SETS_SLA_INTERVAL_SECONDS": "3600"}  # no periodic SLA sweep noise in the feeds


def _serve(templates: SqliteTemplates, workdir: Path, env: dict[str, str]) -> Server:
    return start_server(_database(templates, workdir), workdir, env={**QUIET, **env})


def _database(templates: SqliteTemplates, workdir: Path) -> str:
    database = workdir / "sets.db"
    if not database.exists():
        shutil.copyfile(templates.get(True), database)
    return f"sqlite+aiosqlite:///{database}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="module")
def server(sqlite_templates: SqliteTemplates, workdir: Path) -> Iterator[Server]:
    started = _serve(sqlite_templates, workdir, {})
    yield started
    stop_server(started)


@pytest.fixture
async def writer(
    server: Server, sqlite_templates: SqliteTemplates, workdir: Path
) -> AsyncIterator[Services]:
    """Services of another process on the server's database (as a worker would be): its
    events reach the database only, not the server's in-memory bus."""
    built = build_services(
        Settings(database_url=_database(sqlite_templates, workdir), jwt_secret=TEST_SECRET)
    )
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def http(server: Server) -> AsyncIterator[Http]:
    async with Http(server.url) as client:
        yield client


async def connect(server: Server, protocol: str, token: str, **kw: Any) -> GraphQLSocket:
    return await GraphQLSocket.open(
        ws_url(server.url), protocol, {"Authorization": f"Bearer {token}"}, **kw
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_staff_receive_each_committed_event_live_with_the_fresh_ticket_state(
    server: Server, http: Http, protocol: str
) -> None:
    agent, rita = await http.login("agent@example.com"), await http.login("requester@example.com")
    me = await http.me(agent)
    async with await connect(server, protocol, agent) as socket:
        assert socket.ack == {"userId": me["id"]}
        op = await socket.subscribe(SUBSCRIBE_EVENTS)
        await asyncio.sleep(0.2)  # let the subscription reach the bus before the mutation
        ticket = await http.create_ticket(rita, "Scanner offline")
        created = await socket.data(op, within=5)
        assigned_at = time.monotonic()
        await http.data(
            ASSIGN, {"input": {"ticketId": ticket["id"], "assigneeId": me["id"]}}, agent
        )
        events = [created["ticketEvents"]]
        while events[-1]["kind"] != "ASSIGNED":
            events.append((await socket.data(op, within=5))["ticketEvents"])
        latency = time.monotonic() - assigned_at
    mine = [e for e in events if e["ticket"]["id"] == ticket["id"]]
    assert [e["kind"] for e in mine][:1] == ["CREATED"]
    assert mine[-1]["kind"] == "ASSIGNED"
    assert latency < 2.0, latency
    # Each event resolves with fresh loaders: the ticket as it is now, not as first seen.
    assert mine[0]["ticket"]["status"] == "NEW"
    assert mine[-1]["ticket"] == {
        "id": ticket["id"],
        "key": ticket["key"],
        "status": "TODO",
        "assignee": {"name": me["name"]},
    }
    assert mine[-1]["actor"] == {"name": me["name"]}
    seqs = [e["seq"] for e in mine]
    assert seqs == sorted(set(seqs))


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_requesters_get_their_own_tickets_events_and_never_internal_notes(
    server: Server, http: Http, protocol: str
) -> None:
    agent = await http.login("agent@example.com")
    rita, clinic = await http.login("requester@example.com"), await http.login("clinic@example.com")
    async with (
        await connect(server, protocol, rita) as rita_socket,
        await connect(server, protocol, clinic) as clinic_socket,
        await connect(server, protocol, agent) as agent_socket,
    ):
        rita_op = await rita_socket.subscribe(SUBSCRIBE_EVENTS)
        clinic_op = await clinic_socket.subscribe(SUBSCRIBE_EVENTS)
        agent_op = await agent_socket.subscribe(SUBSCRIBE_EVENTS)
        await asyncio.sleep(0.2)
        ritas = await http.create_ticket(rita, "Rita's printer")
        clinics = await http.create_ticket(clinic, "Clinic fridge alarm")
        await http.comment(agent, ritas["id"], "Requester seems annoyed", internal=True)
        await http.comment(agent, ritas["id"], "We are on it")
        await http.comment(agent, clinics["id"], "Technician booked")
        await http.rename(rita, ritas["id"], "rita-done")
        await http.rename(clinic, clinics["id"], "clinic-done")

        rita_saw = await events_until(rita_socket, rita_op, ritas["id"], "rita-done")
        clinic_saw = await events_until(clinic_socket, clinic_op, clinics["id"], "clinic-done")
        agent_saw = await events_until(agent_socket, agent_op, ritas["id"], "rita-done")
        # Nothing of the other requester's ticket was queued for them in between.
        await rita_socket.nothing_for(rita_op, 0.2)

    assert [(e["kind"], e["internal"]) for e in rita_saw] == [
        ("CREATED", False),
        ("COMMENTED", False),
        ("UPDATED", False),
    ]
    assert [e["kind"] for e in clinic_saw] == ["CREATED", "COMMENTED", "UPDATED"]
    assert [(e["kind"], e["internal"]) for e in agent_saw] == [
        ("CREATED", False),
        ("COMMENTED", True),
        ("COMMENTED", False),
        ("UPDATED", False),
    ]


def _expired_token(user_id: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "ver": 0,
        "typ": "access",
        "iat": int((now - timedelta(hours=1)).timestamp()),
        "exp": int((now - timedelta(minutes=1)).timestamp()),
    }
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


async def _refused(server: Server, protocol: str, payload: dict[str, Any] | None) -> Refused:
    with pytest.raises(Refused) as refused:
        await GraphQLSocket.open(ws_url(server.url), protocol, payload)
    return refused.value


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_missing_bad_expired_and_revoked_tokens_are_refused_at_connection_init(
    server: Server, http: Http, protocol: str
) -> None:
    admin = await http.login("admin@example.com")
    email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    made = await http.data(
        CREATE_USER,
        {"input": {"email": email, "name": "V", "role": "AGENT", "password": DEMO_PASSWORD}},
        admin,
    )
    assert made["createUser"]["userErrors"] == []
    victim_token = await http.login(email)
    victim = await http.me(victim_token)
    _, user_pk = parse_global_id(victim["id"])
    # Revoke: a password change signs the user out everywhere.
    changed = await http.data(
        UPDATE_USER, {"input": {"userId": victim["id"], "password": "a-new-password-1"}}, admin
    )
    assert changed["updateUser"]["userErrors"] == []
    cases = {
        "missing": None,
        "not bearer": {"Authorization": "Basic abc"},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "expired": {"token": _expired_token(user_pk)},
        "revoked": {"Authorization": f"Bearer {victim_token}"},
    }
    for case, payload in cases.items():
        refused = await _refused(server, protocol, payload)
        if protocol == TRANSPORT_WS:
            assert (refused.code, refused.reason) == (4403, "Forbidden"), case
        else:
            # The legacy protocol's equivalent: connection_error, then the socket closes.
            assert refused.payload["extensions"] == {"code": "UNAUTHENTICATED"}, case
            assert refused.payload["message"], case
    # A valid token in the HTTP-style header map is accepted, as GraphiQL sends it.
    async with await connect(server, protocol, admin) as socket:
        assert socket.ack["userId"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_resume_replays_after_the_cursor_then_continues_live_with_no_gap_or_duplicate(
    server: Server, http: Http, writer: Services, protocol: str
) -> None:
    """Events committed while the replay runs are neither lost nor sent twice."""
    agent, rita = await http.login("agent@example.com"), await http.login("requester@example.com")
    ticket = await http.create_ticket(rita, "Resume me")
    # More than a replay page (100), so the replay takes a while and writes land during it.
    _, ticket_pk = parse_global_id(ticket["id"])
    alex = await actor_of(writer, "agent@example.com")
    for n in range(105):
        await writer.tickets.add_comment(alex, ticket_pk, body=f"before {n}")
    trail = (await http.data(TICKET_EVENTS, {"id": ticket["id"]}, agent))["ticket"]["events"]
    cursor = trail["edges"][2]["cursor"]  # resume after the third event (seq 3)

    async def keep_writing() -> None:
        for n in range(15):
            await http.comment(agent, ticket["id"], f"during {n}")
        await http.rename(rita, ticket["id"], "resume-done")

    async with await connect(server, protocol, agent) as socket:
        writing = asyncio.create_task(keep_writing())
        await asyncio.sleep(0.02)
        op = await socket.subscribe(
            SUBSCRIBE_EVENTS, {"filter": {"ticketId": ticket["key"]}, "after": cursor}
        )
        got = await events_until(socket, op, ticket["id"], "resume-done", within=20)
        await writing
        await socket.nothing_for(op, 0.2)
    seqs = [e["seq"] for e in got]
    # Every event after the third, each once, in order, up to the rename that came last.
    assert seqs == list(range(4, seqs[-1] + 1)), seqs
    assert seqs[-1] >= 1 + 105 + 15 + 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_ticket_updated_streams_new_states_and_respects_visibility(
    server: Server, http: Http, protocol: str
) -> None:
    agent, rita = await http.login("agent@example.com"), await http.login("requester@example.com")
    clinic = await http.login("clinic@example.com")
    me = await http.me(agent)
    ticket = await http.create_ticket(rita, "Watch me")
    async with (
        await connect(server, protocol, agent) as agent_socket,
        await connect(server, protocol, rita) as rita_socket,
        await connect(server, protocol, clinic) as clinic_socket,
    ):
        agent_op = await agent_socket.subscribe(SUBSCRIBE_TICKET, {"id": ticket["id"]})
        rita_op = await rita_socket.subscribe(SUBSCRIBE_TICKET, {"id": ticket["key"]})
        snoop = await clinic_socket.subscribe(SUBSCRIBE_TICKET, {"id": ticket["id"]})
        refused = await clinic_socket.ended(snoop)
        assert refused[0]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        await asyncio.sleep(0.2)

        await http.data(
            ASSIGN, {"input": {"ticketId": ticket["id"], "assigneeId": me["id"]}}, agent
        )
        state = (await agent_socket.data(agent_op))["ticketUpdated"]
        assert (state["status"], state["assignee"]) == ("TODO", {"name": me["name"]})
        assert (await rita_socket.data(rita_op))["ticketUpdated"]["status"] == "TODO"

        await http.comment(agent, ticket["id"], "internal only", internal=True)
        assert (await agent_socket.data(agent_op))["ticketUpdated"]["status"] == "TODO"
        await http.data(
            TRANSITION, {"input": {"ticketId": ticket["id"], "to": "IN_PROGRESS"}}, agent
        )
        # The requester's next update is the transition: the internal note sent them nothing.
        assert (await rita_socket.data(rita_op))["ticketUpdated"]["status"] == "IN_PROGRESS"
        assert (await agent_socket.data(agent_op))["ticketUpdated"]["status"] == "IN_PROGRESS"
        await rita_socket.nothing_for(rita_op, 0.2)


async def test_filters_narrow_the_feed(server: Server, http: Http) -> None:
    agent, rita = await http.login("agent@example.com"), await http.login("requester@example.com")
    me = await http.me(agent)
    team = me["teams"][0]["id"]
    async with await connect(server, LEGACY_WS, agent) as socket:
        mine = await socket.subscribe(SUBSCRIBE_EVENTS, {"filter": {"assignedToMe": True}})
        working = await socket.subscribe(
            SUBSCRIBE_EVENTS, {"filter": {"statuses": ["IN_PROGRESS"]}}
        )
        other_team = await socket.subscribe(SUBSCRIBE_EVENTS, {"filter": {"teamId": "VGVhbTo5OTk"}})
        await asyncio.sleep(0.2)
        ticket = await http.create_ticket(rita, "Filter me")
        await http.data(
            ASSIGN,
            {"input": {"ticketId": ticket["id"], "assigneeId": me["id"], "teamId": team}},
            agent,
        )
        await http.data(
            TRANSITION, {"input": {"ticketId": ticket["id"], "to": "IN_PROGRESS"}}, agent
        )
        await http.rename(agent, ticket["id"], "filter-done")
        # Filters apply to the ticket as it stands when the event is read.
        saw_mine = await events_until(socket, mine, ticket["id"], "filter-done")
        saw_working = await events_until(socket, working, ticket["id"], "filter-done")
        await socket.nothing_for(other_team, 0.2)
    assert [e["kind"] for e in saw_mine][-2:] == ["STATUS_CHANGED", "UPDATED"]
    assert [e["kind"] for e in saw_working][-2:] == ["STATUS_CHANGED", "UPDATED"]
    assert saw_working[-1]["ticket"]["status"] == "IN_PROGRESS"


async def test_a_bad_cursor_is_a_coded_error(server: Server, http: Http) -> None:
    agent = await http.login("agent@example.com")
    async with await connect(server, TRANSPORT_WS, agent) as socket:
        op = await socket.subscribe(SUBSCRIBE_EVENTS, {"after": "bm90LWpzb24"})
        results = await socket.ended(op)
    assert results[0]["errors"][0]["extensions"]["code"] == "VALIDATION"


@pytest.fixture(scope="module")
def slow_server(
    sqlite_templates: SqliteTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    started = _serve(
        sqlite_templates, tmp_path_factory.mktemp("slow"), {"SETS_SUBSCRIBER_QUEUE_SIZE": "4"}
    )
    yield started
    stop_server(started)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_slow_consumer_is_disconnected_with_a_reason_and_does_not_stall_others(
    slow_server: Server, protocol: str
) -> None:
    async with Http(slow_server.url) as http:
        await _overflow(http, slow_server, protocol)


async def _overflow(http: Http, slow_server: Server, protocol: str) -> None:
    agent, rita = await http.login("agent@example.com"), await http.login("requester@example.com")
    ticket = await http.create_ticket(rita, "Big", description="x" * 20_000)
    # Each event of this subscription is ~280 KB (fourteen copies of the description), and
    # the stuck client reads into small buffers without compression, so a few megabytes of
    # events fill the path from the server's socket to it.
    heavy = (
        "subscription { ticketEvents { seq "
        + " ".join(f"t{n}: ticket {{ description }}" for n in range(14))
        + " } }"
    )
    host, port = slow_server.url.removeprefix("http://").split(":")
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: no autotuning
    stuck.connect((host, int(port)))
    stuck.setblocking(False)
    async with (
        await connect(
            slow_server, protocol, agent, sock=stuck, max_queue=1, compression=None
        ) as slow,
        await connect(slow_server, protocol, agent) as fast,
    ):
        await slow.subscribe(heavy)  # ...and never read
        fast_op = await fast.subscribe(SUBSCRIBE_EVENTS, {"filter": {"ticketId": ticket["id"]}})
        await asyncio.sleep(0.2)
        for n in range(40):
            await http.comment(agent, ticket["id"], f"burst {n}")
            # The reader keeps up, event by event, however stuck the other client is.
            event = (await fast.data(fast_op, within=5))["ticketEvents"]
            assert event["kind"] == "COMMENTED"
        # Reading at last, the slow client drains what was sent, then finds the close.
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    await slow.ws.recv()
    assert closed.value.rcvd is not None, closed.value
    assert closed.value.rcvd.code == 1013
    assert "slow consumer" in closed.value.rcvd.reason

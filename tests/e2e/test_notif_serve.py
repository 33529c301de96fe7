"""`sets serve` without Redis delivers notifications in-process: the ticket scenario leaves an
`.eml` file per email and a recorded Block Kit payload per Slack message, or, with
SETS_SMTP_URL set, the mail arrives at that SMTP server; in-app ones are pushed live."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SqliteTemplates
from tests.documents import (
    ASSIGN,
    CATEGORIES,
    CREATE_TICKET,
    SUBSCRIBE_NOTIFICATIONS,
    TRANSITION,
)
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.live import Http
from tests.e2e.wsclient import TRANSPORT_WS, GraphQLSocket, ws_url
from tests.notif_servers import SmtpSink, smtp_server

pytestmark = pytest.mark.e2e

QUIET = {"SETS_SLA_INTERVAL_SECONDS": "3600"}


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with smtp_server() as sink:
        yield sink


def serve(templates: SqliteTemplates, workdir: Path, env: dict[str, str]) -> Server:
    database = workdir / "sets.db"
    shutil.copyfile(templates.get(True), database)
    return start_server(f"sqlite+aiosqlite:///{database}", workdir, env={**QUIET, **env})


def outbox(workdir: Path) -> list[tuple[int, str, str, str]]:
    """(id, channel, status, recipient email) of every notification but in-app ones."""
    with sqlite3.connect(workdir / "sets.db") as conn:
        return conn.execute(
            "SELECT n.id, n.channel, n.status, u.email FROM notifications n "
            "JOIN users u ON u.id = n.recipient_id WHERE n.channel != 'IN_APP' ORDER BY n.id"
        ).fetchall()


async def settled(workdir: Path) -> list[tuple[int, str, str, str]]:
    for _ in range(300):
        rows = outbox(workdir)
        if all(status != "PENDING" for _, _, status, _ in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"still pending: {[r for r in outbox(workdir) if r[2] == 'PENDING']}")


async def scenario(http: Http) -> dict[str, Any]:
    """The foundation issue's scenario 3: Rita reports a payment problem; the agent takes it,
    works it, writes an internal note and a public reply (mentioning Rita), resolves it; Rita
    confirms."""
    rita = await http.login("requester@example.com")
    agent = await http.login("agent@example.com")
    categories = {c["name"]: c["id"] for c in (await http.data(CATEGORIES, {}, rita))["categories"]}
    created = await http.data(
        CREATE_TICKET,
        {
            "input": {
                "title": "Card payments fail at checkout",
                "description": "Every card is declined since 09:00.",
                "categoryId": categories["Payment"],
            }
        },
        rita,
    )
    ticket = created["createTicket"]["ticket"]
    key = ticket["key"]
    agent_id = (await http.me(agent))["id"]
    taken = await http.data(ASSIGN, {"input": {"ticketId": key, "assigneeId": agent_id}}, agent)
    assert taken["assignTicket"]["userErrors"] == []
    moved = await http.data(TRANSITION, {"input": {"ticketId": key, "to": "IN_PROGRESS"}}, agent)
    assert moved["transitionTicket"]["userErrors"] == []
    await http.comment(agent, key, "Acquirer outage? Vendor bug #123, keep quiet", internal=True)
    await http.comment(agent, key, "@requester the acquirer had an outage; please retry.")
    resolved = await http.data(
        TRANSITION,
        {"input": {"ticketId": key, "to": "RESOLVED", "resolution": "Acquirer fixed it."}},
        agent,
    )
    assert resolved["transitionTicket"]["userErrors"] == []
    closed = await http.data(TRANSITION, {"input": {"ticketId": key, "to": "CLOSED"}}, rita)
    assert closed["transitionTicket"]["userErrors"] == []
    return dict(ticket)


async def test_the_scenario_leaves_eml_files_and_slack_payloads(
    sqlite_templates: SqliteTemplates, tmp_path: Path
) -> None:
    server = serve(sqlite_templates, tmp_path, {})
    try:
        async with Http(server.url) as http:
            ticket = await scenario(http)
        rows = await settled(tmp_path)
    finally:
        stop_server(server)
    data = tmp_path / "data"
    assert {status for _, _, status, _ in rows} == {"SENT"}
    for pk, channel, _, _ in rows:
        folder = {"EMAIL": "mail", "SLACK": "slack", "SMS": "sms"}[channel]
        suffix = ".eml" if channel == "EMAIL" else ".json"
        assert (data / folder / f"{pk}{suffix}").is_file(), (pk, channel)
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((data / "mail").glob("*.eml"), key=lambda p: int(p.stem))
    ]
    to_rita = [m for m in mails if m["To"] == "Rita Requester <requester@example.com>"]
    subjects = [str(m["Subject"]).strip() for m in to_rita if ticket["key"] in str(m["Subject"])]
    key = ticket["key"]
    title = "Card payments fail at checkout"
    assert subjects == [
        f"[{key}] Received: {title}",
        f"[{key}] Now in progress: {title}",
        f"[{key}] Alex Agent mentioned you: {title}",
        f"[{key}] Resolved: {title}",
    ]
    assert not any("Vendor bug" in m.as_string() for m in to_rita)
    slack = [json.loads(p.read_text()) for p in (data / "slack").glob("*.json")]
    assigned = [s for s in slack if key in s["payload"]["text"]]
    assert [s["recipient"]["username"] for s in assigned] == ["agent"]
    assert assigned[0]["payload"]["text"] == f"[{key}] Assigned to you: {title}"
    assert "Alex Agent took" in assigned[0]["payload"]["blocks"][1]["text"]["text"]


async def test_with_an_smtp_server_the_mail_arrives_there(
    sqlite_templates: SqliteTemplates, tmp_path: Path, smtp: SmtpSink
) -> None:
    server = serve(sqlite_templates, tmp_path, {"SETS_SMTP_URL": smtp.url})
    try:
        async with Http(server.url) as http:
            ticket = await scenario(http)
        rows = await settled(tmp_path)
    finally:
        stop_server(server)
    emails = [r for r in rows if r[1] == "EMAIL"]
    assert {status for _, _, status, _ in emails} == {"SENT"}
    assert len(smtp.mails) == len(emails)  # the demo data's mail too: each exactly once
    assert len({m.message_id for m in smtp.mails}) == len(smtp.mails)
    assert not (tmp_path / "data" / "mail").exists()
    key = ticket["key"]
    ritas = [m for m in smtp.to("requester@example.com") if key in str(m.message["Subject"])]
    assert len(ritas) == 4
    assert all(m.message.get_body(("html",)) is not None for m in ritas)


async def test_in_app_notifications_are_pushed_live(
    sqlite_templates: SqliteTemplates, tmp_path: Path
) -> None:
    server = serve(sqlite_templates, tmp_path, {})
    try:
        async with Http(server.url) as http:
            rita = await http.login("requester@example.com")
            manager = await http.login("manager@example.com")
            agent = await http.login("agent@example.com")
            agent_id = (await http.me(agent))["id"]
            socket = await GraphQLSocket.open(
                ws_url(server.url), TRANSPORT_WS, {"Authorization": f"Bearer {agent}"}
            )
            async with socket:
                op = await socket.subscribe(SUBSCRIBE_NOTIFICATIONS)
                await asyncio.sleep(0.2)
                ticket = await http.create_ticket(rita, "Headset crackles")
                await http.data(
                    ASSIGN,
                    {"input": {"ticketId": ticket["key"], "assigneeId": agent_id}},
                    manager,
                )
                got = (await socket.data(op))["notificationReceived"]
                await socket.nothing_for(op, 0.3)
    finally:
        stop_server(server)
    assert got["channel"] == "IN_APP" and got["event"] == "ASSIGNED"
    assert got["subject"] == f"[{ticket['key']}] Assigned to you: Headset crackles"
    assert got["ticket"] == {"key": ticket["key"]}

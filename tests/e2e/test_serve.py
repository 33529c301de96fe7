"""`sets serve --demo` as a user runs it: a real uvicorn process over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.documents import (
    ASSIGN,
    CATEGORIES,
    COMMENT,
    CREATE_TICKET,
    LOGIN,
    ME,
    TICKET_EVENTS,
    TRANSITION,
)
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


def gql(server: Server, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def login(server: Server, email: str) -> str:
    data = gql(server, LOGIN, {"email": email, "password": "sets-demo-password"})
    token: str = data["login"]["accessToken"]
    return token


def test_fresh_sqlite_file_is_migrated_seeded_and_served(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    server = server_factory(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}", "--demo")
    page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    run_payment_scenario(server)


@pytest.fixture
def backend() -> str:
    """Only PostgreSQL here: the SQLite path is the fresh-file test above."""
    return "postgresql"


def test_postgresql_after_sets_migrate(
    db_url: str, empty_database: bool, server_factory: Callable[..., Server]
) -> None:
    migrate = subprocess.run(
        [sys.executable, "-m", "sets.cli", "migrate"],
        env={"SETS_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stderr
    server = server_factory(db_url, "--demo")
    run_payment_scenario(server)


def run_payment_scenario(server: Server) -> None:
    rita = login(server, "requester@example.com")
    agent = login(server, "agent@example.com")
    categories = {c["name"]: c["id"] for c in gql(server, CATEGORIES, {}, rita)["categories"]}
    created = gql(
        server,
        CREATE_TICKET,
        {
            "input": {
                "title": "Terminal declines cards",
                "description": "All of them.",
                "categoryId": categories["Payment"],
            }
        },
        rita,
    )["createTicket"]["ticket"]
    assert (created["status"], created["priority"]) == ("NEW", "P1")
    opened = datetime.fromisoformat(created["createdAt"])
    due = datetime.fromisoformat(created["sla"]["resolutionDueAt"])
    assert due - opened == timedelta(hours=2)
    tid = created["id"]
    me = gql(server, ME, {}, agent)["me"]
    steps: list[tuple[str, dict[str, Any], str]] = [
        (ASSIGN, {"ticketId": tid, "assigneeId": me["id"]}, "assignTicket"),
        (TRANSITION, {"ticketId": tid, "to": "IN_PROGRESS"}, "transitionTicket"),
        (
            COMMENT,
            {"ticketId": tid, "body": "checking the acquirer", "internal": True},
            "addComment",
        ),
        (COMMENT, {"ticketId": tid, "body": "We are on it."}, "addComment"),
        (
            TRANSITION,
            {"ticketId": tid, "to": "RESOLVED", "resolution": "Acquirer fixed."},
            "transitionTicket",
        ),
    ]
    for document, variables, name in steps:
        assert gql(server, document, {"input": variables}, agent)[name]["userErrors"] == []
    closed = gql(server, TRANSITION, {"input": {"ticketId": tid, "to": "CLOSED"}}, rita)
    assert closed["transitionTicket"]["ticket"]["status"] == "CLOSED"
    again = gql(server, COMMENT, {"input": {"ticketId": tid, "body": "thanks!"}}, rita)
    assert again["addComment"]["userErrors"][0]["code"] == "TICKET_CLOSED"
    trail = gql(server, TICKET_EVENTS, {"id": tid}, agent)["ticket"]["events"]["edges"]
    kinds = [e["node"]["kind"] for e in trail]
    assert kinds == [
        "CREATED",
        "ASSIGNED",
        "STATUS_CHANGED",
        "STATUS_CHANGED",
        "COMMENTED",
        "COMMENTED",
        "STATUS_CHANGED",
        "STATUS_CHANGED",
    ]

"""Attachments through a real `sets serve` (uvicorn) over HTTP, on both databases: GraphQL
multipart uploads on createTicket, addComment and addAttachment, refusals that leave no file
or row behind, and who may download what from GET /attachments/{id}."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.documents import ASSIGN, ME, TRANSITION
from tests.e2e.conftest import Server
from tests.e2e.test_serve import gql, login

pytestmark = pytest.mark.e2e

MAX_BYTES = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(b"png").digest() * 64
PDF = b"%PDF-1.4\n" + b"1 0 obj << >> endobj\n" * 50
CSV = b"asset,status\nPRN-7,jammed\n"
ERRORS = "userErrors { field message code }"
FILES = "attachments { id filename contentType sizeBytes sha256 url internal }"
CREATE = f"""
mutation Create($input: CreateTicketInput!) {{
  createTicket(input: $input) {{ ticket {{ id {FILES} }} {ERRORS} }}
}}"""
COMMENT = f"""
mutation Comment($input: AddCommentInput!) {{
  addComment(input: $input) {{ comment {{ id internal {FILES} }} {ERRORS} }}
}}"""
ADD = f"""
mutation Add($input: AddAttachmentInput!) {{
  addAttachment(input: $input) {{ attachment {{ id filename sha256 url }} {ERRORS} }}
}}"""
FILES_OF = f"""
query Files($id: ID!) {{
  ticket(id: $id) {{ {FILES} events(first: 50) {{ nodes {{ kind internal }} }} }}
}}"""
COUNT = "query { tickets(first: 1) { totalCount } }"


def upload(
    server: Server,
    token: str | None,
    query: str,
    variables: dict[str, Any],
    files: dict[str, tuple[str, bytes, str]],
) -> httpx.Response:
    """A GraphQL multipart request (jaydenseric/graphql-multipart-request-spec): `files`
    maps a variable path to (filename, bytes, content type)."""
    parts = {str(i): (path, part) for i, (path, part) in enumerate(files.items())}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{server.url}/graphql",
        data={
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({name: [path] for name, (path, _) in parts.items()}),
        },
        files={name: part for name, (_, part) in parts.items()},
        headers=headers,
        timeout=30,
    )


def payload(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


def accepted(response: httpx.Response, field: str) -> dict[str, Any]:
    result = payload(response, field)
    assert result["userErrors"] == [], result
    return result


def stored(data_dir: Path) -> list[str]:
    """Every file in the attachment store, staging area included."""
    root = data_dir / "attachments"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def address(data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    return f"{sha[:2]}/{sha[2:4]}/{sha}"


def download(server: Server, url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{server.url}{url}", headers=headers, timeout=10)


def test_uploads_refusals_and_downloads(
    db_url: str, empty_database: bool, server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    server = server_factory(db_url, "--demo", env={"SETS_ATTACHMENT_MAX_BYTES": str(MAX_BYTES)})
    data_dir = tmp_path / "data"
    rita = login(server, "requester@example.com")
    carl = login(server, "clinic@example.com")
    agent = login(server, "agent@example.com")

    # createTicket with a file.
    created = accepted(
        upload(
            server,
            rita,
            CREATE,
            {"input": {"title": "Printer jams", "description": "Photo.", "attachments": [None]}},
            {"variables.input.attachments.0": ("jam.png", PNG, "image/png")},
        ),
        "createTicket",
    )["ticket"]
    tid, (photo,) = created["id"], created["attachments"]
    assert (photo["filename"], photo["contentType"], photo["sizeBytes"]) == (
        "jam.png",
        "image/png",
        len(PNG),
    )
    me = gql(server, ME, {}, agent)["me"]["id"]
    gql(server, ASSIGN, {"input": {"ticketId": tid, "assigneeId": me}}, agent)
    gql(server, TRANSITION, {"input": {"ticketId": tid, "to": "IN_PROGRESS"}}, agent)

    # addComment with a file: an internal note by the agent, a public reply by the requester.
    note = accepted(
        upload(
            server,
            agent,
            COMMENT,
            {"input": {"ticketId": tid, "body": "Quote", "internal": True, "attachments": [None]}},
            {"variables.input.attachments.0": ("quote.pdf", PDF, "application/pdf")},
        ),
        "addComment",
    )["comment"]
    (quote,) = note["attachments"]
    assert note["internal"] and quote["internal"]
    reply = accepted(
        upload(
            server,
            rita,
            COMMENT,
            {"input": {"ticketId": tid, "body": "Asset list", "attachments": [None]}},
            {"variables.input.attachments.0": ("assets.csv", CSV, "text/csv")},
        ),
        "addComment",
    )["comment"]
    assert [a["filename"] for a in reply["attachments"]] == ["assets.csv"]

    # addAttachment: the same photo again is a new row over the one stored file.
    again = accepted(
        upload(
            server,
            rita,
            ADD,
            {"input": {"ticketId": tid, "file": None}},
            {"variables.input.file": ("jam-again.png", PNG, "image/png")},
        ),
        "addAttachment",
    )["attachment"]
    assert again["sha256"] == photo["sha256"] and again["id"] != photo["id"]
    published = sorted([address(PNG), address(PDF), address(CSV)])
    assert stored(data_dir) == published

    # Refusals: a coded userError, and no row, no event, no ticket, no file.
    before_files = gql(server, FILES_OF, {"id": tid}, agent)["ticket"]
    before_count = gql(server, COUNT, {}, rita)["tickets"]["totalCount"]
    too_big = payload(
        upload(
            server,
            rita,
            ADD,
            {"input": {"ticketId": tid, "file": None}},
            {"variables.input.file": ("huge.txt", b"x" * (MAX_BYTES + 1), "text/plain")},
        ),
        "addAttachment",
    )
    assert [(e["field"], e["code"]) for e in too_big["userErrors"]] == [("file", "VALIDATION")]
    bad_type = payload(
        upload(
            server,
            rita,
            CREATE,
            {"input": {"title": "Page", "description": "x", "attachments": [None]}},
            {"variables.input.attachments.0": ("page.html", b"<script>1</script>", "text/html")},
        ),
        "createTicket",
    )
    assert bad_type["ticket"] is None
    assert [(e["field"], e["code"]) for e in bad_type["userErrors"]] == [
        ("attachments.0", "VALIDATION")
    ]
    disguised = payload(
        upload(
            server,
            rita,
            ADD,
            {"input": {"ticketId": tid, "file": None}},
            {"variables.input.file": ("cat.png", b"MZ\x90\x00 not a png", "image/png")},
        ),
        "addAttachment",
    )
    assert [e["code"] for e in disguised["userErrors"]] == ["VALIDATION"]
    # A body larger than any legal request is refused before it is parsed.
    oversized = upload(
        server,
        rita,
        ADD,
        {"input": {"ticketId": tid, "file": None}},
        {"variables.input.file": ("big.txt", b"y" * (2 * 1024 * 1024), "text/plain")},
    )
    assert oversized.status_code == 413
    # Without a bearer token a multipart request is refused outright (CSRF).
    anonymous = upload(
        server,
        None,
        ADD,
        {"input": {"ticketId": tid, "file": None}},
        {"variables.input.file": ("a.txt", b"hi", "text/plain")},
    )
    assert anonymous.status_code == 401
    assert gql(server, FILES_OF, {"id": tid}, agent)["ticket"] == before_files
    assert gql(server, COUNT, {}, rita)["tickets"]["totalCount"] == before_count
    assert stored(data_dir) == published

    # Downloads: as the ticket's visibility, internal notes' files for staff only.
    response = download(server, photo["url"], rita)
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith('attachment; filename="jam.png"')
    assert download(server, photo["url"], carl).status_code == 404  # another requester's file
    assert download(server, quote["url"], rita).status_code == 404  # an internal note's file
    assert download(server, quote["url"], agent).content == PDF
    assert download(server, photo["url"], agent).status_code == 200
    assert download(server, photo["url"], None).status_code == 401
    assert download(server, photo["url"], "bogus").status_code == 401
    # The requester's view of the ticket leaves the internal note's file out.
    mine = gql(server, FILES_OF, {"id": tid}, rita)["ticket"]
    assert [a["filename"] for a in mine["attachments"]] == [
        "jam.png",
        "assets.csv",
        "jam-again.png",
    ]
    kinds = [e["kind"] for e in mine["events"]["nodes"]]
    assert kinds.count("ATTACHMENT_ADDED") == 3

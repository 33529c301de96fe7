"""Attachments through GraphQL multipart requests and GET /attachments/{id}, in process, on
both databases: the schema, the batching, the guard in front of multipart bodies and the
download's authorisation and headers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sets.app import create_app
from sets.config import Settings
from sets.domain.clock import FixedClock
from sets.realtime.bus import InMemoryBus
from sets.services.container import Services, build_services
from tests.api.conftest import Api
from tests.api.test_statement_counts import counting
from tests.conftest import T0
from tests.documents import ASSIGN, ME, TRANSITION

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x01\x02" * 300
ERRORS = "userErrors { field message code }"
FILE_FIELDS = "id filename contentType sizeBytes sha256 url internal uploadedBy { email }"
CREATE = f"""
mutation Create($input: CreateTicketInput!) {{
  createTicket(input: $input) {{ ticket {{ id attachments {{ {FILE_FIELDS} }} }} {ERRORS} }}
}}"""
COMMENT = f"""
mutation Comment($input: AddCommentInput!) {{
  addComment(input: $input) {{
    comment {{ id internal attachments {{ {FILE_FIELDS} comment {{ id }} }} }} {ERRORS}
  }}
}}"""
ADD = f"""
mutation Add($input: AddAttachmentInput!) {{
  addAttachment(input: $input) {{
    attachment {{ {FILE_FIELDS} ticket {{ id }} comment {{ id }} }}
    ticket {{ id version attachments {{ id }} }}
    {ERRORS}
  }}
}}"""
TICKET_FILES = """
query T($id: ID!) {
  ticket(id: $id) {
    attachments { id filename internal }
    comments(first: 20) { nodes { body attachments { filename } } }
  }
}"""
NODE = "query N($id: ID!) { node(id: $id) { id ... on Attachment { filename sha256 } } }"
PAGE = """
query Page { tickets(first: 50) { nodes { key attachments { filename }
  comments(first: 5) { nodes { attachments { filename } } } } } }"""


async def multipart(
    api: Api,
    query: str,
    variables: dict[str, Any],
    files: dict[str, tuple[str, tuple[str, bytes, str]]],
    token: str | None,
) -> httpx.Response:
    """One request per the GraphQL multipart request spec; `files` maps a part name to
    (variable path, (filename, bytes, content type))."""
    operations = {"query": query, "variables": variables}
    mapping = {name: [path] for name, (path, _) in files.items()}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(mapping)},
        files={name: part for name, (_, part) in files.items()},
        headers=headers,
    )


async def ok(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][field]
    assert payload["userErrors"] == [], payload
    return payload


async def test_files_on_tickets_and_comments_over_graphql(api: Api, services: Services) -> None:
    rita = await api.login("requester@example.com")
    agent = await api.login("agent@example.com")
    created = await ok(
        await multipart(
            api,
            CREATE,
            {"input": {"title": "Printer", "description": "x", "attachments": [None, None]}},
            {
                "0": ("variables.input.attachments.0", ("shot.png", PNG, "image/png")),
                "1": ("variables.input.attachments.1", ("a/b/notes.txt", b"hi", "text/plain")),
            },
            rita,
        ),
        "createTicket",
    )
    tid = created["ticket"]["id"]
    files = created["ticket"]["attachments"]
    assert [(f["filename"], f["contentType"], f["sizeBytes"]) for f in files] == [
        ("shot.png", "image/png", len(PNG)),
        ("notes.txt", "text/plain", 2),
    ]
    assert files[0]["url"] == f"/attachments/{files[0]['id']}"
    assert files[0]["uploadedBy"]["email"] == "requester@example.com"

    me = (await api.data(ME, token=agent))["me"]["id"]
    await api.data(ASSIGN, {"input": {"ticketId": tid, "assigneeId": me}}, token=agent)
    await api.data(TRANSITION, {"input": {"ticketId": tid, "to": "IN_PROGRESS"}}, agent)
    note = await ok(
        await multipart(
            api,
            COMMENT,
            {"input": {"ticketId": tid, "body": "quote", "internal": True, "attachments": [None]}},
            {
                "q": (
                    "variables.input.attachments.0",
                    ("quote.pdf", b"%PDF-1.4 x", "application/pdf"),
                )
            },
            agent,
        ),
        "addComment",
    )
    note_file = note["comment"]["attachments"][0]
    assert note_file["internal"] and note_file["comment"]["id"] == note["comment"]["id"]

    added = await ok(
        await multipart(
            api,
            ADD,
            {"input": {"ticketId": tid, "file": None}},
            {"f": ("variables.input.file", ("again.png", PNG, "image/png"))},
            rita,
        ),
        "addAttachment",
    )
    assert added["attachment"]["sha256"] == files[0]["sha256"]  # same bytes, same digest
    assert added["attachment"]["ticket"]["id"] == tid and added["attachment"]["comment"] is None
    assert len(added["ticket"]["attachments"]) == 3  # the requester's view: no internal note

    staff = (await api.data(TICKET_FILES, {"id": tid}, agent))["ticket"]
    assert [f["filename"] for f in staff["attachments"]] == [
        "shot.png",
        "notes.txt",
        "quote.pdf",
        "again.png",
    ]
    mine = (await api.data(TICKET_FILES, {"id": tid}, rita))["ticket"]
    assert [f["filename"] for f in mine["attachments"]] == ["shot.png", "notes.txt", "again.png"]
    assert all(not c["attachments"] for c in mine["comments"]["nodes"])
    found = (await api.data(NODE, {"id": files[0]["id"]}, agent))["node"]
    assert found == {"id": files[0]["id"], "filename": "shot.png", "sha256": files[0]["sha256"]}
    hidden = await api.post(NODE, {"id": note_file["id"]}, rita)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    # A refusal is a coded userError, and the file is not kept.
    refused = await multipart(
        api,
        ADD,
        {"input": {"ticketId": tid, "file": None}},
        {"f": ("variables.input.file", ("page.html", b"<html>", "text/html"))},
        rita,
    )
    payload = refused.json()["data"]["addAttachment"]
    assert payload["attachment"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("file", "VALIDATION")]
    # Outside multipart, an Upload variable cannot be smuggled in as a string.
    smuggled = await api.data(ADD, {"input": {"ticketId": tid, "file": "/etc/passwd"}}, rita)
    assert smuggled["addAttachment"]["userErrors"][0]["code"] == "VALIDATION"
    assert len(services.attachments.store.files()) == 3  # png, txt, pdf: content-addressed


async def test_a_page_of_tickets_loads_attachments_in_batches(api: Api, services: Services) -> None:
    manager = await api.login("manager@example.com")
    rita = await api.login("requester@example.com")
    for n in range(4):
        response = await multipart(
            api,
            CREATE,
            {"input": {"title": f"T{n}", "description": "x", "attachments": [None]}},
            {"0": ("variables.input.attachments.0", (f"{n}.png", PNG, "image/png"))},
            rita,
        )
        await ok(response, "createTicket")
    with counting(services) as few:
        await api.data(PAGE, token=manager)
    for n in range(4, 8):
        await api.data(CREATE, {"input": {"title": f"T{n}", "description": "x"}}, rita)
    with counting(services) as more:
        data = await api.data(PAGE, token=manager)
    assert sum(len(t["attachments"]) for t in data["tickets"]["nodes"]) == 4
    assert len(more) == len(few)  # one statement per kind, whatever the page holds


async def test_download_authorisation_and_headers(api: Api) -> None:
    rita = await api.login("requester@example.com")
    carl = await api.login("clinic@example.com")
    agent = await api.login("agent@example.com")
    created = await ok(
        await multipart(
            api,
            CREATE,
            {"input": {"title": "Café", "description": "x", "attachments": [None]}},
            {"0": ("variables.input.attachments.0", ("Menü <v2>.png", PNG, "image/png"))},
            rita,
        ),
        "createTicket",
    )
    file = created["ticket"]["attachments"][0]
    assert file["filename"] == "Menü _v2_.png"

    def get(url: str, token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return api.client.get(url, headers=headers)

    for token in (rita, agent):
        response = await get(file["url"], token)
        assert response.status_code == 200 and response.content == PNG
        assert response.headers["content-type"] == "image/png"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"] == (
            "attachment; filename=\"Menu _v2_.png\"; filename*=UTF-8''Men%C3%BC%20_v2_.png"
        )
    assert (await get(file["url"], None)).status_code == 401
    assert (await get(file["url"], "not-a-token")).status_code == 401
    assert (await get(file["url"], carl)).status_code == 404
    assert (await get("/attachments/QXR0YWNobWVudDo5OTk5", agent)).status_code == 404
    assert (await get("/attachments/garbage", agent)).status_code == 404
    assert (await get(f"/attachments/{created['ticket']['id']}", agent)).status_code == 404


@pytest.fixture
async def small(settings: Settings) -> AsyncIterator[Api]:
    """An app whose limits are two files of 1 KiB each."""
    limited = dataclasses.replace(settings, attachment_max_bytes=1024, attachment_max_files=2)
    built = build_services(limited, clock=FixedClock(T0), bus=InMemoryBus())
    app = create_app(services=built)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sets.test") as client:
        yield Api(client)
    await built.close()


async def test_the_multipart_guard(small: Api) -> None:
    rita = await small.login("requester@example.com")
    variables = {"input": {"title": "x", "description": "x", "attachments": [None]}}
    part = {"0": ("variables.input.attachments.0", ("a.txt", b"hello", "text/plain"))}
    # No bearer token: refused before the body is read (a cross-site form cannot add one).
    response = await multipart(small, CREATE, variables, part, None)
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    assert (await multipart(small, CREATE, variables, part, "forged")).status_code == 401
    # A declared body past what two files of 1 KiB need.
    big = {"0": ("variables.input.attachments.0", ("a.txt", b"x" * 2 * 1024 * 1024, "text/plain"))}
    assert (await multipart(small, CREATE, variables, big, rita)).status_code == 413

    # A body without Content-Length is cut off as it grows.
    async def chunks() -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{}\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="0"; filename="a.txt"\r\n\r\n'
        for _ in range(64):
            yield b"x" * 65536

    streamed = await small.client.post(
        "/graphql",
        content=chunks(),
        headers={
            "Authorization": f"Bearer {rita}",
            "Content-Type": "multipart/form-data; boundary=b",
        },
    )
    assert streamed.status_code == 413
    # Within the body limit, but the file itself is over 1 KiB: a coded userError.
    over = {"0": ("variables.input.attachments.0", ("a.txt", b"x" * 1025, "text/plain"))}
    payload = (await multipart(small, CREATE, variables, over, rita)).json()["data"]
    assert [e["code"] for e in payload["createTicket"]["userErrors"]] == ["VALIDATION"]
    three = {
        str(i): (f"variables.input.attachments.{i}", (f"{i}.txt", b"hi", "text/plain"))
        for i in range(3)
    }
    variables["input"]["attachments"] = [None, None, None]
    payload = (await multipart(small, CREATE, variables, three, rita)).json()["data"]
    assert [(e["field"], e["code"]) for e in payload["createTicket"]["userErrors"]] == [
        ("attachments", "VALIDATION")
    ]


async def test_a_multipart_request_authenticates_its_caller_once(
    api: Api, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    rita = await api.login("requester@example.com")
    calls: list[str] = []
    real = services.auth.authenticate

    async def counted(token: str, **kwargs: Any) -> Any:
        calls.append(token)
        return await real(token, **kwargs)

    monkeypatch.setattr(services.auth, "authenticate", counted)
    created = await ok(
        await multipart(
            api,
            CREATE,
            {"input": {"title": "Scan", "description": "x", "attachments": [None]}},
            {"0": ("variables.input.attachments.0", ("shot.png", PNG, "image/png"))},
            rita,
        ),
        "createTicket",
    )
    assert created["ticket"]["attachments"][0]["uploadedBy"]["email"] == "requester@example.com"
    assert calls == [rita]  # by the upload gate; the GraphQL context took its caller
    calls.clear()
    await api.data(ME, token=rita)  # a plain request: authenticated by its context
    assert calls == [rita]

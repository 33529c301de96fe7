"""Attachments (issue 7) on both databases: stored once by content, recorded with their
audit events in the change's transaction, visible as their ticket (never an internal note's
file for a requester); every refusal and failure leaves no row and no file."""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from sets.domain.attachments import AttachmentPolicy
from sets.domain.enums import EventKind, TicketStatus
from sets.domain.errors import ErrorCode
from sets.models import Attachment, Comment
from sets.services.attachment_store import AttachmentStore, IncomingFile
from sets.services.uow import UnitOfWork
from tests.integration.collab_support import in_progress, snapshot
from tests.integration.support import Demo, raises_domain

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"stream\n" * 200


def upload(
    name: str | None, data: bytes, content_type: str | None, *, size: int | None = None
) -> IncomingFile:
    buffer = io.BytesIO(data)

    async def read(n: int) -> bytes:
        return buffer.read(n)

    return IncomingFile(name, content_type, read, size, "file")


def unreadable(name: str, content_type: str) -> IncomingFile:
    """A file that must be refused before a byte of it is read."""

    async def read(n: int) -> bytes:
        raise AssertionError("the file was read although it had to be refused first")

    return IncomingFile(name, content_type, read, None, "file")


def png(name: str = "screen.png") -> IncomingFile:
    return upload(name, PNG, "image/png", size=len(PNG))


def store_files(demo: Demo) -> list[str]:
    store = demo.services.attachments.store
    return [str(p.relative_to(store.root)) for p in store.files()]


async def state(demo: Demo) -> dict[str, Any]:
    """Rows of every table an upload writes, and every file in the store (staging too)."""
    found = await snapshot(demo)
    async with demo.services.db.reader() as session:
        for model in (Attachment, Comment):
            found[model.__tablename__] = await session.scalar(
                select(func.count()).select_from(model)
            )
    found["files"] = store_files(demo)
    return found


def address(data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    return f"{sha[:2]}/{sha[2:4]}/{sha}"


async def test_create_ticket_with_files(demo: Demo) -> None:
    services = demo.services
    notes = b"Toner low, see photo.\n"
    files = [png(), upload("C:\\tmp\\notes.txt", notes, "text/plain")]
    async with services.attachments.receive(files) as received:
        ticket = await services.tickets.create(
            demo.rita, title="Printer", description="Streaks.", attachments=received
        )
    rows = (await services.attachments.for_tickets(demo.rita, [ticket.id]))[ticket.id]
    assert [(r.filename, r.content_type, r.size_bytes, r.comment_id) for r in rows] == [
        ("screen.png", "image/png", len(PNG), None),
        ("notes.txt", "text/plain", len(notes), None),
    ]
    assert [r.sha256 for r in rows] == [hashlib.sha256(d).hexdigest() for d in (PNG, notes)]
    assert {r.uploaded_by for r in rows} == {demo.rita.user_id}
    # Published under their content address; nothing left in the staging area.
    assert sorted(store_files(demo)) == sorted([address(PNG), address(notes)])
    row, path = await services.attachments.content(demo.rita, rows[0].id)
    assert path.read_bytes() == PNG and row.id == rows[0].id
    # One public audit event per file, in the creation's transaction, on the hash chain.
    events = await demo.events(ticket.id, demo.rita)
    added = [e for e in events if e.kind == EventKind.ATTACHMENT_ADDED]
    assert [e.data["filename"] for e in added] == ["screen.png", "notes.txt"]
    assert added[0].data["sha256"] == rows[0].sha256 and not added[0].internal
    assert added[0].data["attachmentId"] == rows[0].id and added[0].data["commentId"] is None
    assert [e.kind for e in events][:3] == ["CREATED", "ATTACHMENT_ADDED", "ATTACHMENT_ADDED"]
    assert (await services.reads.verify_audit_chain(demo.admin, ticket.id))[1] == []


async def test_comment_files_and_internal_notes(demo: Demo) -> None:
    services = demo.services
    tid = await in_progress(demo)
    async with services.attachments.receive([png("error.png")]) as received:
        public = await services.tickets.add_comment(
            demo.rita, tid, body="Here is the error.", attachments=received
        )
    async with services.attachments.receive([upload("vendor.pdf", PDF, "application/pdf")]) as r:
        note = await services.tickets.add_comment(
            demo.agent, tid, body="Vendor quote.", internal=True, attachments=r
        )
    staff = (await services.attachments.for_tickets(demo.agent, [tid]))[tid]
    assert [(a.filename, a.comment_id, a.internal) for a in staff] == [
        ("error.png", public.id, False),
        ("vendor.pdf", note.id, True),
    ]
    internal_file = staff[1]
    # The requester sees the ticket's public file only, and nothing of the internal note.
    mine = (await services.attachments.for_tickets(demo.rita, [tid]))[tid]
    assert [a.filename for a in mine] == ["error.png"]
    by_comment = await services.attachments.for_comments(demo.rita, [public.id, note.id])
    assert [a.filename for a in by_comment[public.id]] == ["error.png"]
    assert by_comment[note.id] == []
    for call in (
        services.attachments.get(demo.rita, internal_file.id),
        services.attachments.content(demo.rita, internal_file.id),
        # Another requester, and a vendor the ticket is not routed to, see neither file.
        services.attachments.content(demo.carl, staff[0].id),
        services.attachments.content(demo.vendor, staff[0].id),
        services.attachments.get(demo.agent, 987654),
    ):
        with raises_domain(ErrorCode.NOT_FOUND, "id"):
            await call
    _, path = await services.attachments.content(demo.agent, internal_file.id)
    assert path.read_bytes() == PDF
    # The internal note's ATTACHMENT_ADDED event is internal too.
    staff_events = [e for e in await demo.events(tid) if e.kind == "ATTACHMENT_ADDED"]
    assert [(e.data["commentId"], e.internal) for e in staff_events] == [
        (public.id, False),
        (note.id, True),
    ]
    rita_events = [e for e in await demo.events(tid, demo.rita) if e.kind == "ATTACHMENT_ADDED"]
    assert [e.data["commentId"] for e in rita_events] == [public.id]
    assert (await services.attachments.comments(demo.rita, [public.id, note.id])).keys() == {
        public.id
    }


async def test_add_attachment_and_identical_content_stored_once(demo: Demo) -> None:
    services = demo.services
    tid = await in_progress(demo)
    version = (await demo.ticket(tid)).version
    first = await services.attachments.add(demo.rita, tid, png("one.png"))
    second = await services.attachments.add(demo.agent, tid, png("two.png"))
    assert first.sha256 == second.sha256 and first.id != second.id
    assert store_files(demo) == [address(PNG)]  # one file for both rows
    assert (await demo.ticket(tid)).version > version
    comment = await services.tickets.add_comment(demo.rita, tid, body="And the log.")
    log = b"12:00 jam\n12:01 jam again\n"
    on_comment = await services.attachments.add(
        demo.rita, tid, upload("jam.log", log, "application/octet-stream"), comment_id=comment.id
    )
    assert (on_comment.comment_id, on_comment.content_type) == (comment.id, "text/plain")
    assert [
        a.id
        for a in (await services.attachments.for_comments(demo.agent, [comment.id]))[comment.id]
    ] == [on_comment.id]
    events = [e for e in await demo.events(tid) if e.kind == "ATTACHMENT_ADDED"]
    assert [(e.actor_id, e.data["filename"]) for e in events] == [
        (demo.rita.user_id, "one.png"),
        (demo.agent.user_id, "two.png"),
        (demo.rita.user_id, "jam.log"),
    ]


async def test_refusals_leave_no_row_and_no_file(demo: Demo) -> None:
    services = demo.services
    attachments, tickets = services.attachments, services.tickets
    tid = await in_progress(demo)
    other = await in_progress(demo, "Another")
    agent_public = await tickets.add_comment(demo.agent, tid, body="Try again?")
    agent_note = await tickets.add_comment(demo.agent, tid, body="Hmm.", internal=True)
    on_other = await tickets.add_comment(demo.rita, other, body="Elsewhere.")
    closed = await tickets.create(demo.rita, title="Withdrawn", description="x")
    await tickets.transition(demo.rita, closed.id, TicketStatus.CLOSED, reason="fixed itself")
    attachments.policy = AttachmentPolicy(max_bytes=2048, max_files=2)
    big = b"x" * 2049
    before = await state(demo)

    add, rita = attachments.add, demo.rita
    shot = unreadable("a.png", "image/png")

    async def staged(files: list[IncomingFile], run: Callable[[Any], Awaitable[Any]]) -> None:
        async with attachments.receive(files) as received:
            await run(received)

    def create(files: list[IncomingFile], title: str = "t") -> Awaitable[None]:
        return staged(
            files, lambda r: tickets.create(rita, title=title, description="d", attachments=r)
        )

    cases: list[tuple[ErrorCode, str | None, Awaitable[Any]]] = [
        # Types refused before a byte is read; contents that do not match their type; size.
        (ErrorCode.VALIDATION, "file", add(rita, tid, unreadable("a.html", "text/html"))),
        (ErrorCode.VALIDATION, "file", add(rita, tid, unreadable("a.svg", "image/svg+xml"))),
        (ErrorCode.VALIDATION, "file", add(rita, tid, unreadable("a.exe", "binary/octet-stream"))),
        (ErrorCode.VALIDATION, "file", add(rita, tid, upload("f.png", b"<script>", "image/png"))),
        (ErrorCode.VALIDATION, "file", add(rita, tid, upload("bin.txt", PNG, "text/plain"))),
        (ErrorCode.VALIDATION, "file", add(rita, tid, upload("big.txt", big, "text/plain"))),
        (ErrorCode.VALIDATION, "file", add(rita, tid, upload("b.txt", b"x", None, size=4096))),
        (ErrorCode.VALIDATION, "file", add(rita, tid, upload("empty.txt", b"", "text/plain"))),
        # Where the file would go: checked before it is read, too.
        (ErrorCode.NOT_FOUND, "ticketId", add(rita, 99999, shot)),
        (ErrorCode.NOT_FOUND, "ticketId", add(demo.carl, tid, shot)),
        (ErrorCode.NOT_FOUND, "ticketId", add(demo.vendor, tid, shot)),
        (ErrorCode.TICKET_CLOSED, None, add(rita, closed.id, shot)),
        (ErrorCode.NOT_FOUND, "commentId", add(rita, tid, shot, comment_id=agent_note.id)),
        (ErrorCode.NOT_FOUND, "commentId", add(rita, tid, shot, comment_id=on_other.id)),
        (ErrorCode.NOT_FOUND, "commentId", add(rita, tid, shot, comment_id=424242)),
        (ErrorCode.FORBIDDEN, "commentId", add(rita, tid, shot, comment_id=agent_public.id)),
        # Through createTicket / addComment: staged files are deleted on refusal.
        (ErrorCode.VALIDATION, "attachments", create([png(), png(), png()])),
        (ErrorCode.VALIDATION, "title", create([png()], title=" ")),
        (ErrorCode.VALIDATION, "file", create([png(), upload("big.csv", big, "text/csv")])),
        (
            ErrorCode.NOT_FOUND,
            "ticketId",
            staged(
                [png()], lambda r: tickets.add_comment(demo.carl, tid, body="+1", attachments=r)
            ),
        ),
        (
            ErrorCode.FORBIDDEN,
            "internal",
            staged(
                [png()],
                lambda r: tickets.add_comment(rita, tid, body="x", internal=True, attachments=r),
            ),
        ),
        (
            ErrorCode.TICKET_CLOSED,
            None,
            staged(
                [png()], lambda r: tickets.add_comment(rita, closed.id, body="x", attachments=r)
            ),
        ),
    ]
    for code, field, call in cases:
        with raises_domain(code, field):
            await call
        assert await state(demo) == before


async def test_a_database_failure_at_commit_leaves_no_row_and_no_file(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = demo.services
    tid = await in_progress(demo)
    before = await state(demo)
    original = UnitOfWork.commit

    async def failing_commit(self: UnitOfWork) -> None:
        # A row the database refuses (no such ticket): the commit's flush fails for real.
        self.session.add(
            Attachment(
                ticket_id=987654,
                uploaded_by=demo.rita.user_id,
                filename="x",
                content_type="text/plain",
                size_bytes=1,
                sha256="0" * 64,
                internal=False,
                created_at=services.clock.now(),
            )
        )
        await original(self)

    monkeypatch.setattr(UnitOfWork, "commit", failing_commit)
    with pytest.raises(IntegrityError):
        await services.attachments.add(demo.rita, tid, png())
    with pytest.raises(IntegrityError):
        async with services.attachments.receive([png()]) as received:
            await services.tickets.create(
                demo.rita, title="Printer", description="x", attachments=received
            )
    assert await state(demo) == before


async def test_a_crash_between_commit_and_publish_loses_no_file(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = demo.services
    tid = await in_progress(demo)

    def crash(self: AttachmentStore, staged: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(AttachmentStore, "publish", crash)
    row = await services.attachments.add(demo.rita, tid, png())
    # Committed, not published: the content waits in the staging area under its digest.
    (staged,) = store_files(demo)
    assert staged.startswith(f"tmp/{row.sha256}.") and staged.endswith(".staged")
    monkeypatch.undo()
    _, path = await services.attachments.content(demo.agent, row.id)  # a download recovers it
    assert path.read_bytes() == PNG and store_files(demo) == [address(PNG)]


async def test_tidy_publishes_what_rows_need_and_deletes_the_rest(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = demo.services
    store = services.attachments.store
    tid = await in_progress(demo)
    monkeypatch.setattr(AttachmentStore, "publish", lambda self, staged: None)  # "crash"
    await services.attachments.add(demo.rita, tid, png())
    monkeypatch.undo()
    orphan = store.staging / f"{'a' * 64}.0123.staged"  # no row names it
    orphan.write_bytes(b"left behind")
    partial = store.staging / "4567.part"
    partial.write_bytes(b"half")
    fresh = store.staging / "89ab.part"  # an upload in progress elsewhere: too young
    fresh.write_bytes(b"arriving")
    old = time.time() - 2 * 24 * 3600
    for path in store.staging.iterdir():
        if path != fresh:
            os.utime(path, (old, old))
    report = await services.attachments.tidy()
    assert (report.published, report.removed) == (1, 2)
    assert sorted(store_files(demo)) == sorted([address(PNG), "tmp/89ab.part"])

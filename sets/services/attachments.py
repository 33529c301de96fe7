"""Attachments (SPEC §9): receiving files, writing their rows and audit events in the
transaction of the change they belong to, publishing them after it commits, and reading
them back under the ticket's visibility rules.

Order of an upload, so that a refusal or a failure leaves neither a file nor a row:
1. what the client declared (count, name, type, size) is checked: nothing is read yet;
2. each file is received into the store's staging area, hashed and counted; its first bytes
   must match the declared type and it is cut off past the size limit (`receive`), outside
   any transaction, so the database write lock is never held while bytes arrive;
3. inside the use case's unit of work, `attach` adds the rows and ATTACHMENT_ADDED events
   (internal for a file on an internal note) and hooks the session's commit;
4. once the transaction commits, the staged files are renamed to their content address;
   if it does not, leaving `receive` deletes them.
A crash between 4's commit and rename leaves a staged file named by its sha256: a download
or the hourly tidy publishes it (`AttachmentStore.recover`), so no row loses its file."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from sets.domain import attachments as rules
from sets.domain import permissions, workflow
from sets.domain.actor import Actor
from sets.domain.enums import EventKind
from sets.domain.errors import NotFound, ValidationFailed
from sets.models import Attachment, Comment, Ticket
from sets.repositories.attachments import AttachmentRepository
from sets.repositories.tickets import TicketRepository
from sets.services.attachment_store import AttachmentStore, IncomingFile, StagedFile, TidyReport
from sets.services.collaboration import commit
from sets.services.uow import UnitOfWork

__all__ = ["AttachmentService", "IncomingFile", "Received", "attach"]

log = logging.getLogger("sets.attachments")

TIDY_EVERY_SECONDS = 3600.0
STALE_AFTER_SECONDS = 24 * 3600.0


class Received:
    """Files of one request, staged and waiting for the transaction that records them."""

    def __init__(self, store: AttachmentStore, files: list[StagedFile]) -> None:
        self._store = store
        self.files = files
        self.committed = False
        self._bound = False
        self._published: set[int] = set()

    def bind(self, session: AsyncSession) -> None:
        if self._bound:
            raise RuntimeError("these files were already recorded by a transaction")
        self._bound = True
        event.listen(session.sync_session, "after_commit", self._after_commit, once=True)

    def _after_commit(self, _session: Session) -> None:
        # Runs inside commit(), after the database said yes: never raise from here.
        self.committed = True
        self.publish()

    def publish(self) -> None:
        for index, staged in enumerate(self.files):
            if index in self._published:
                continue
            try:
                self._store.publish(staged)
            except OSError:
                log.exception("publishing attachment %s failed; it stays staged", staged.sha256)
            else:
                self._published.add(index)

    def finish(self) -> None:
        """Committed: publish what is not yet (failures stay staged for recovery).
        Not committed (refused, rolled back, never recorded): delete every staged file."""
        if self.committed:
            self.publish()
            return
        for staged in self.files:
            self._store.discard(staged)


async def attach(
    uow: UnitOfWork,
    actor: Actor,
    ticket: Ticket,
    received: Received | None,
    *,
    comment: Comment | None = None,
) -> list[Attachment]:
    """Record received files on a ticket (or one of its comments) in this unit of work, with
    one audit event each; they are published when it commits. The caller has checked that
    the actor may write there. No files: nothing happens."""
    if received is None or not received.files:
        return []
    if actor.user_id is None:
        raise ValidationFailed("files are attached by people", field=received.files[0].field)
    received.bind(uow.session)
    internal = comment is not None and comment.internal
    now = uow.clock.now()
    rows = [
        Attachment(
            ticket_id=ticket.id,
            comment_id=comment.id if comment is not None else None,
            uploaded_by=actor.user_id,
            filename=staged.filename,
            content_type=staged.content_type,
            size_bytes=staged.size,
            sha256=staged.sha256,
            internal=internal,
            created_at=now,
        )
        for staged in received.files
    ]
    uow.session.add_all(rows)
    await uow.session.flush()
    for row in rows:
        uow.record(
            ticket, EventKind.ATTACHMENT_ADDED, actor.user_id, describe(row), internal=internal
        )
    return rows


class AttachmentService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        sessions: async_sessionmaker[AsyncSession],
        store: AttachmentStore,
        policy: rules.AttachmentPolicy,
    ) -> None:
        self._uow = uow_factory
        self._sessions = sessions
        self.store = store
        self.policy = policy
        self._last_tidy = -math.inf

    @asynccontextmanager
    async def receive(
        self, files: Sequence[IncomingFile], *, field: str = "attachments"
    ) -> AsyncIterator[Received]:
        """Stage `files` for a use case run inside the block, which records them with
        `attach`; whatever was not committed by the end of the block is deleted."""
        self.policy.check_count(len(files), field=field)
        declared = [
            self.policy.check_declared(f.filename, f.content_type, f.size, field=f.field)
            for f in files
        ]
        await self._maybe_tidy()
        received = Received(self.store, [])
        try:
            for file, (name, content_type) in zip(files, declared, strict=True):
                received.files.append(
                    await self.store.stage(
                        file, filename=name, content_type=content_type, policy=self.policy
                    )
                )
            yield received
        finally:
            # Synchronous on purpose (a rename or unlink per file): it must also run when
            # the request is cancelled, where a further await could be interrupted.
            received.finish()

    async def _target(
        self,
        tickets: TicketRepository,
        actor: Actor,
        ticket_id: int,
        comment_id: int | None,
        *,
        lock: bool,
    ) -> tuple[Ticket, Comment | None]:
        """Where a file may go: a ticket the actor may see and write on (not closed), or one
        of its comments they may see and wrote themselves."""
        ticket = await tickets.get(ticket_id, for_update=lock)
        if ticket is None or not permissions.can_view(actor, ticket):
            raise NotFound("ticket not found", field="ticketId")
        permissions.ensure_can_comment(actor, ticket, internal=False)
        workflow.ensure_open(ticket)
        if comment_id is None:
            return ticket, None
        comment = await tickets.comment(comment_id)
        if (
            comment is None
            or comment.ticket_id != ticket.id
            or comment.deleted_at is not None
            or not rules.can_see(actor, ticket, internal=comment.internal)
        ):
            raise NotFound("comment not found on this ticket", field="commentId")
        rules.ensure_can_attach_to_comment(actor, author_id=comment.author_id)
        return ticket, comment

    async def add(
        self, actor: Actor, ticket_id: int, file: IncomingFile, *, comment_id: int | None = None
    ) -> Attachment:
        """Attach one file to a ticket or to one of the actor's own comments on it."""
        if actor.user_id is None:
            raise ValidationFailed("files are attached by people", field=file.field)
        # Checked before receiving (nothing is written for a refusal), then again under lock.
        async with self._sessions() as session:
            await self._target(TicketRepository(session), actor, ticket_id, comment_id, lock=False)
        async with self.receive([file], field=file.field) as received, self._uow() as uow:
            ticket, comment = await self._target(
                uow.tickets, actor, ticket_id, comment_id, lock=True
            )
            ticket.updated_at = uow.clock.now()
            rows = await attach(uow, actor, ticket, received, comment=comment)
            await commit(uow)
        return rows[0]

    # Reads, under the ticket's visibility rules.

    async def get(self, actor: Actor, attachment_id: int) -> Attachment:
        async with self._sessions() as session:
            row = await AttachmentRepository(session).get(attachment_id)
            ticket = await TicketRepository(session).get(row.ticket_id) if row else None
        # NOT_FOUND, never FORBIDDEN: what one may not see must not reveal that it exists.
        if row is None or ticket is None or not rules.can_see(actor, ticket, internal=row.internal):
            raise NotFound("attachment not found", field="id")
        return row

    async def content(self, actor: Actor, attachment_id: int) -> tuple[Attachment, Path]:
        """The row and the file to send, for a caller allowed to see it."""
        row = await self.get(actor, attachment_id)
        path = await asyncio.to_thread(self.store.recover, row.sha256)
        if path is None:
            log.error("attachment %s: file %s is missing from the store", row.id, row.sha256)
            raise NotFound("attachment not found", field="id")
        return row, path

    async def for_tickets(
        self, actor: Actor, ticket_ids: Sequence[int]
    ) -> dict[int, list[Attachment]]:
        """For tickets the caller was allowed to load; internal notes' files for staff only."""
        async with self._sessions() as session:
            return await AttachmentRepository(session).for_tickets(
                ticket_ids, include_internal=permissions.can_see_internal(actor)
            )

    async def for_comments(
        self, actor: Actor, comment_ids: Sequence[int]
    ) -> dict[int, list[Attachment]]:
        """For comments the caller was allowed to load."""
        async with self._sessions() as session:
            return await AttachmentRepository(session).for_comments(
                comment_ids, include_internal=permissions.can_see_internal(actor)
            )

    async def comments(self, actor: Actor, comment_ids: Sequence[int]) -> dict[int, Comment]:
        """The comments visible attachments sit on (their ticket is visible with them)."""
        async with self._sessions() as session:
            found = await AttachmentRepository(session).comments(comment_ids)
        see_internal = permissions.can_see_internal(actor)
        return {k: c for k, c in found.items() if see_internal or not c.internal}

    # Housekeeping.

    async def tidy(self, *, older_than_seconds: float = STALE_AFTER_SECONDS) -> TidyReport:
        """Staging files left by crashes: a staged file whose content a row names is
        published (unless it already is), everything else that old is deleted."""
        stale = await asyncio.to_thread(self.store.stale, older_than_seconds)
        async with self._sessions() as session:
            wanted = await AttachmentRepository(session).referenced(
                {sha for _, sha in stale if sha is not None}
            )

        def run() -> TidyReport:
            published = removed = 0
            for path, sha in stale:
                missing = sha is not None and sha in wanted and not self.store.path(sha).exists()
                if missing and sha is not None and self.store.recover(sha) is not None:
                    published += 1
                    continue
                if path.exists():
                    path.unlink(missing_ok=True)
                    removed += 1
            return TidyReport(published=published, removed=removed)

        return await asyncio.to_thread(run)

    async def _maybe_tidy(self) -> None:
        now = time.monotonic()
        if now - self._last_tidy < TIDY_EVERY_SECONDS:
            return
        self._last_tidy = now
        try:
            report = await self.tidy()
        except Exception:  # housekeeping must never fail an upload
            log.exception("tidying the attachment staging area failed")
            return
        if report.published or report.removed:
            log.info("attachment staging tidied: %s", report)


def describe(row: Attachment) -> dict[str, Any]:
    """The audit/JSON view of a row (also what the ATTACHMENT_ADDED event carries)."""
    return {
        "attachmentId": row.id,
        "commentId": row.comment_id,
        "filename": row.filename,
        "contentType": row.content_type,
        "sizeBytes": row.size_bytes,
        "sha256": row.sha256,
    }

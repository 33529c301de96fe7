"""Attachments over GraphQL (issue 7): the Attachment type, the Ticket.attachments and
Comment.attachments fields (batched per request) and `addAttachment`. Translation only:
limits, visibility and the transaction live in sets.services.attachments."""

from __future__ import annotations

from datetime import datetime

import strawberry
from starlette.datastructures import UploadFile
from strawberry.dataloader import DataLoader
from strawberry.file_uploads import Upload

from sets.domain.actor import Actor
from sets.models import Attachment as AttachmentRow
from sets.models import Comment as CommentRow
from sets.models import Ticket as TicketRow
from sets.schema.context import Info
from sets.schema.errors import UserError
from sets.schema.ids import ticket_pk, to_global_id
from sets.schema.loaders import by_key
from sets.schema.tickets import attempt, optional_pk
from sets.schema.types import Comment, Node, Ticket, User
from sets.schema.uploads import incoming
from sets.services.attachments import AttachmentService


class AttachmentLoaders:
    """One statement per kind for a whole response (a ticket page, a comment list)."""

    def __init__(self, service: AttachmentService, actor: Actor) -> None:
        self.of_tickets: DataLoader[int, list[AttachmentRow]] = by_key(
            lambda ids: service.for_tickets(actor, ids), list
        )
        self.of_comments: DataLoader[int, list[AttachmentRow]] = by_key(
            lambda ids: service.for_comments(actor, ids), list
        )
        self.comments: DataLoader[int, CommentRow | None] = by_key(
            lambda ids: service.comments(actor, ids), lambda: None
        )


def attachment_loaders(info: Info) -> AttachmentLoaders:
    service = info.context.services.attachments
    return info.context.loaders.feature(
        "attachments", lambda actor: AttachmentLoaders(service, actor)
    )


@strawberry.type(
    description="A file on a ticket or on one of its comments. Download it from `url` with "
    "the same 'Authorization: Bearer <accessToken>' header as the API."
)
class Attachment(Node):
    id: strawberry.ID
    row: strawberry.Private[AttachmentRow]
    filename: str = strawberry.field(description="The uploaded name, made safe.")
    content_type: str
    size_bytes: int
    sha256: str = strawberry.field(description="Hex SHA-256 of the content.")
    url: str = strawberry.field(description="Where to GET the file: /attachments/{id}.")
    internal: bool = strawberry.field(description="On an internal note (staff only).")
    created_at: datetime

    @classmethod
    def from_row(cls, row: AttachmentRow) -> Attachment:
        gid = to_global_id("Attachment", row.id)
        return cls(
            id=strawberry.ID(gid),
            row=row,
            filename=row.filename,
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            url=f"/attachments/{gid}",
            internal=row.internal,
            created_at=row.created_at,
        )

    @strawberry.field
    async def uploaded_by(self, info: Info) -> User | None:
        row = await info.context.loaders.users.load(self.row.uploaded_by)
        return User.from_row(row) if row else None

    @strawberry.field
    async def ticket(self, info: Info) -> Ticket | None:
        row = await info.context.loaders.tickets.load(self.row.ticket_id)
        return Ticket.from_row(row) if row else None

    @strawberry.field(description="The comment it was attached to; null: the ticket itself.")
    async def comment(self, info: Info) -> Comment | None:
        if self.row.comment_id is None:
            return None
        row = await attachment_loaders(info).comments.load(self.row.comment_id)
        return Comment.from_row(row) if row else None


# Fields declared on sets.schema.types.Ticket / Comment, resolved here.


async def ticket_attachments(info: Info, ticket: TicketRow) -> list[Attachment]:
    rows = await attachment_loaders(info).of_tickets.load(ticket.id)
    return [Attachment.from_row(r) for r in rows]


async def comment_attachments(info: Info, comment_pk: int) -> list[Attachment]:
    rows = await attachment_loaders(info).of_comments.load(comment_pk)
    return [Attachment.from_row(r) for r in rows]


@strawberry.input
class AddAttachmentInput:
    ticket_id: strawberry.ID
    file: Upload = strawberry.field(description="A multipart file part (see docs).")
    comment_id: strawberry.ID | None = strawberry.field(
        default=None, description="Attach to one of your own comments on the ticket."
    )


@strawberry.type
class AttachmentPayload:
    attachment: Attachment | None
    ticket: Ticket | None
    user_errors: list[UserError]


@strawberry.type
class AttachmentMutations:
    @strawberry.mutation(
        description="Attach a file to a ticket you may see (or to your own comment on it). "
        "Send it as multipart/form-data per the GraphQL multipart request spec."
    )
    async def add_attachment(self, info: Info, input: AddAttachmentInput) -> AttachmentPayload:
        actor = await info.context.actor()
        services = info.context.services

        async def work() -> tuple[AttachmentRow, TicketRow]:
            pk = ticket_pk(input.ticket_id)
            comment = optional_pk(input.comment_id, "Comment", "commentId")
            (file,) = incoming([input.file], "file")
            row = await services.attachments.add(actor, pk, file, comment_id=comment)
            return row, await services.reads.ticket(actor, pk)

        try:
            result, errors = await attempt(work)
        finally:
            if isinstance(input.file, UploadFile):
                await input.file.close()
        if result is None:
            return AttachmentPayload(attachment=None, ticket=None, user_errors=errors)
        row, ticket = result
        return AttachmentPayload(
            attachment=Attachment.from_row(row), ticket=Ticket.from_row(ticket), user_errors=[]
        )

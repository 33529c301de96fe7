"""Files from the GraphQL multipart request spec handed to the services as neutral
`IncomingFile`s (the services know nothing of Starlette or Strawberry)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.datastructures import UploadFile

from sets.domain.errors import ValidationFailed
from sets.schema.context import Info
from sets.services.attachments import IncomingFile, Received


def incoming(values: Sequence[Any], field: str) -> list[IncomingFile]:
    """`Upload` values as IncomingFiles. A JSON request can put anything where a file
    belongs (the scalar passes values through): only real multipart parts are accepted."""
    found: list[IncomingFile] = []
    for index, value in enumerate(values):
        name = f"{field}.{index}" if field == "attachments" else field
        if not isinstance(value, UploadFile):
            raise ValidationFailed(
                "send files as multipart/form-data parts (GraphQL multipart request spec)",
                field=name,
            )
        found.append(
            IncomingFile(
                filename=value.filename,
                content_type=value.content_type,
                read=value.read,
                size=value.size,
                field=name,
            )
        )
    return found


@asynccontextmanager
async def received_files(
    info: Info, values: Sequence[Any] | None, field: str = "attachments"
) -> AsyncIterator[Received | None]:
    """Stage the request's files for the use case run in the block (None without files);
    staged files the use case did not commit are deleted, and the request's spooled copies
    closed, when the block ends."""
    try:
        if not values:
            yield None
            return
        async with info.context.services.attachments.receive(
            incoming(values, field), field=field
        ) as received:
            yield received
    finally:
        for value in values or ():
            if isinstance(value, UploadFile):
                await value.close()

"""GET /attachments/{id}: an attachment's bytes, for a caller who may see it.

Authenticated like /graphql (`Authorization: Bearer <accessToken>`; 401 without or with a bad
token) and authorised by the service with the ticket's rules; anything the caller may not
see, or that does not exist, is 404, so a file's existence is never revealed. The response
always downloads (Content-Disposition: attachment) with the stored type and `nosniff`, and a
sandboxing CSP, so even an allowed text file is never rendered as a page of this origin."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from sets.domain.attachments import ascii_filename
from sets.domain.errors import DomainError, Unauthenticated
from sets.schema.context import bearer_token
from sets.schema.ids import from_global_id
from sets.services.container import Services
from sets.web.uploads import unauthenticated


def content_disposition(filename: str) -> str:
    """RFC 6266: a plain-ASCII `filename` for old clients and the exact `filename*`."""
    return (
        f'attachment; filename="{ascii_filename(filename)}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


async def download_attachment(request: Request) -> Response:
    services: Services = request.app.state.services
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return unauthenticated("sign in first: send 'Authorization: Bearer <accessToken>'")
    try:
        principal = await services.auth.authenticate(token)
    except Unauthenticated as exc:
        return unauthenticated(exc.message)
    try:
        pk = from_global_id(request.path_params["id"], "Attachment")
        row, path = await services.attachments.content(principal.actor, pk)
    except DomainError:
        return JSONResponse({"error": "attachment not found", "code": "NOT_FOUND"}, 404)
    return FileResponse(
        path,
        media_type=row.content_type,
        headers={
            "Content-Type": row.content_type,  # as stored: no charset guessed for text
            "Content-Disposition": content_disposition(row.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-cache",
            "ETag": f'"{row.sha256}"',
        },
    )

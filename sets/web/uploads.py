"""The guard in front of multipart GraphQL requests (file uploads), applied before a byte of
the body is read:

- CSRF: a browser may send multipart/form-data across origins without asking first, so a
  multipart request must carry `Authorization: Bearer <accessToken>`. That header is not
  CORS-safelisted: another site's page can only send it after a CORS preflight, which SETS
  never grants. A request without it (or with a token that does not authenticate) is refused
  with 401 before its files are parsed, so anonymous clients cannot make the server spool
  files either.
- Size: the body may not exceed what the largest legal request needs
  (SETS_ATTACHMENT_MAX_FILES times SETS_ATTACHMENT_MAX_BYTES plus 1 MiB for the operations, the
  map and the part headers): a larger Content-Length is refused with 413 at once, and a body
  without one is cut off with 413 as soon as it grows past that. Each file is held to
  SETS_ATTACHMENT_MAX_BYTES again when it is stored."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope

from sets.config import Settings
from sets.domain.errors import Unauthenticated
from sets.schema.context import bearer_token
from sets.services.auth import AuthService, Principal

OVERHEAD_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """Raised from `receive` while Starlette parses a multipart body that is too large.
    Not a ValueError, which Strawberry would answer as an unparsable body (400)."""


def max_body_bytes(settings: Settings) -> int:
    return settings.attachment_max_files * settings.attachment_max_bytes + OVERHEAD_BYTES


def too_large(limit: int) -> Response:
    return JSONResponse(
        {"error": f"the request body is larger than {limit} bytes", "code": "PAYLOAD_TOO_LARGE"},
        status_code=413,
    )


def unauthenticated(message: str) -> Response:
    return JSONResponse(
        {"error": message, "code": "UNAUTHENTICATED"},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="sets"'},
    )


ADMITTED = "sets.admitted_principal"


def admitted_principal(scope: Scope) -> Principal | None:
    """The caller the gate authenticated for this request, if it did."""
    found = scope.get("state", {}).get(ADMITTED)
    return found if isinstance(found, Principal) else None


class UploadGate:
    def __init__(self, auth: AuthService, settings: Settings) -> None:
        self._auth = auth
        self.limit = max_body_bytes(settings)

    async def admit(self, scope: Scope, receive: Receive) -> tuple[Response | None, Receive]:
        """(a refusal to send, None) or (None, the `receive` to parse the body from)."""
        headers = Headers(scope=scope)
        if not headers.get("content-type", "").lower().lstrip().startswith("multipart/"):
            return None, receive
        token = bearer_token(headers.get("authorization"))
        if token is None:
            return (
                unauthenticated(
                    "multipart requests must carry 'Authorization: Bearer <accessToken>'"
                ),
                receive,
            )
        try:
            principal = await self._auth.authenticate(token)
        except Unauthenticated as exc:
            return unauthenticated(exc.message), receive
        # The request's GraphQL context takes the caller from here (`admitted_principal`).
        scope.setdefault("state", {})[ADMITTED] = principal
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return too_large(self.limit), receive
        return None, self._limited(receive)

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        return limited

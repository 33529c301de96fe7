"""How failures reach clients: typed userErrors in payloads, coded GraphQL errors elsewhere,
and never a stack trace."""

from __future__ import annotations

import logging

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from sets.domain.errors import DomainError, ErrorCode

log = logging.getLogger("sets.api")

strawberry.enum(ErrorCode, name="UserErrorCode", description="Why a mutation was refused.")


@strawberry.type(description="A refusal the caller can act on; `field` names the input at fault.")
class UserError:
    field: str | None
    message: str
    code: ErrorCode


def user_errors(exc: DomainError) -> list[UserError]:
    return [UserError(field=exc.field, message=exc.message, code=exc.code)]


def coded_error(exc: DomainError) -> GraphQLError:
    extensions: dict[str, object] = {"code": exc.code.value}
    if exc.field:
        extensions["field"] = exc.field
    return GraphQLError(exc.message, extensions=extensions, original_error=exc)


class ShapeErrors(MaskErrors):
    """Domain errors keep their code; anything unexpected is logged and answered with a
    generic message and `INTERNAL_SERVER_ERROR`; request errors get `BAD_REQUEST`."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _e: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            shaped = coded_error(original)
            return GraphQLError(
                shaped.message,
                nodes=error.nodes,
                path=error.path,
                extensions=shaped.extensions,
            )
        if original is None or isinstance(original, GraphQLError):
            if error.extensions and "code" in error.extensions:
                return error
            code = "BAD_REQUEST" if error.path is None else "BAD_USER_INPUT"
            return GraphQLError(
                error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={**(error.extensions or {}), "code": code},
            )
        log.error("unexpected error at %s", error.path, exc_info=original)
        return GraphQLError(
            "Internal server error; it has been logged.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR"},
        )

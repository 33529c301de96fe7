"""Per-request context: the caller (resolved once, lazily) and their DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from graphql.error import GraphQLError

from sets.domain.actor import Actor
from sets.domain.errors import Unauthenticated
from sets.schema.loaders import Loaders
from sets.services.auth import Principal
from sets.services.container import Services


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass
class Context:
    services: Services
    token: str | None
    _principal: Principal | None = None
    _loaders: Loaders | None = field(default=None, repr=False)

    async def principal(self) -> Principal:
        """The authenticated caller, or a GraphQL error coded UNAUTHENTICATED."""
        if self._principal is None:
            if self.token is None:
                raise GraphQLError(
                    "sign in first: send 'Authorization: Bearer <accessToken>' from login",
                    extensions={"code": "UNAUTHENTICATED"},
                )
            try:
                self._principal = await self.services.auth.authenticate(self.token)
            except Unauthenticated as exc:
                raise GraphQLError(exc.message, extensions={"code": "UNAUTHENTICATED"}) from exc
        return self._principal

    async def actor(self) -> Actor:
        return (await self.principal()).actor

    def set_token(self, token: str) -> None:
        self.token = token
        self._principal = None
        self._loaders = None

    @property
    def known_actor(self) -> Actor | None:
        """The caller once a resolver above has authenticated them (for sync leaf fields)."""
        return self._principal.actor if self._principal else None

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            if self._principal is None:
                raise RuntimeError("loaders are built for an authenticated caller")
            self._loaders = Loaders(self.services.reads, self._principal.actor)
        return self._loaders


Info = strawberry.Info[Context, None]

"""Per-request DataLoaders: each batches one kind of lookup into one SQL statement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader

from sets.domain.actor import Actor
from sets.models import Category, Comment, Team, Ticket, User
from sets.repositories.tickets import EventRecord
from sets.services.queries import EventWindow, ReadService

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


def by_key(
    fetch: Callable[[Sequence[K]], Awaitable[dict[K, V]]], default: Callable[[], Any] = lambda: None
) -> DataLoader[K, Any]:
    async def load(keys: list[K]) -> list[Any]:
        found = await fetch(keys)
        return [found.get(k, default()) for k in keys]

    return DataLoader(load_fn=load)


@dataclass(frozen=True)
class CommentWindow:
    after_id: int | None
    limit: int


class Loaders:
    def __init__(self, reads: ReadService, actor: Actor) -> None:
        self._reads = reads
        self._actor = actor
        self.users: DataLoader[int, User | None] = by_key(reads.users_by_id)
        self.users_by_name: DataLoader[str, User | None] = by_key(reads.users_by_username)
        self.teams: DataLoader[int, Team | None] = by_key(reads.teams_by_id)
        self.categories: DataLoader[int, Category | None] = by_key(reads.categories_by_id)
        self.team_ids_of_user: DataLoader[int, list[int]] = by_key(reads.teams_of_users, list)
        self.member_ids: DataLoader[int, list[int]] = by_key(reads.team_members, list)
        self.tickets: DataLoader[int, Ticket | None] = by_key(
            lambda ids: reads.tickets_by_id(actor, ids)
        )
        self.event_counts: DataLoader[int, int] = by_key(
            lambda ids: reads.count_events(actor, ids), int
        )
        self.comment_counts: DataLoader[int, int] = by_key(
            lambda ids: reads.count_comments(actor, ids), int
        )
        self._events: dict[EventWindow, DataLoader[int, list[EventRecord]]] = {}
        self._comments: dict[CommentWindow, DataLoader[int, list[Comment]]] = {}
        self._features: dict[str, Any] = {}

    def feature(self, name: str, make: Callable[[Actor], T]) -> T:
        """A feature module's own loaders (collaboration, attachments, skills), made on first
        use and kept for the rest of the request like the loaders above."""
        if name not in self._features:
            self._features[name] = make(self._actor)
        return cast(T, self._features[name])

    def events(self, window: EventWindow) -> DataLoader[int, list[EventRecord]]:
        """One loader per window, so tickets asking for the same page share a statement."""
        if window not in self._events:

            async def fetch(ids: Sequence[int]) -> dict[int, list[EventRecord]]:
                return await self._reads.events(
                    self._actor,
                    ids,
                    after_seq=window.after_seq,
                    before_seq=window.before_seq,
                    limit=window.limit,
                    newest_first=window.newest_first,
                )

            self._events[window] = by_key(fetch, list)
        return self._events[window]

    def comments(self, window: CommentWindow) -> DataLoader[int, list[Comment]]:
        if window not in self._comments:

            async def fetch(ids: Sequence[int]) -> dict[int, list[Comment]]:
                return await self._reads.comments(
                    self._actor, ids, after_id=window.after_id, limit=window.limit
                )

            self._comments[window] = by_key(fetch, list)
        return self._comments[window]

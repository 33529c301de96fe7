"""Per-request DataLoaders for the collaboration fields of Ticket (tasks, links, time,
rating), kept in `Loaders.extra` so they live and die with the request's other loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from sets.domain.actor import Actor
from sets.models import TicketLink, TicketRating, TicketTask, TimeEntry
from sets.schema.context import Info
from sets.services.collaboration import CollaborationReads


def _loader(
    fetch: Callable[[Sequence[int]], Awaitable[dict[int, Any]]], default: Callable[[], Any]
) -> DataLoader[int, Any]:
    async def load(keys: list[int]) -> list[Any]:
        found = await fetch(keys)
        return [found.get(k, default()) for k in keys]

    return DataLoader(load_fn=load)


class CollaborationLoaders:
    def __init__(self, reads: CollaborationReads, actor: Actor) -> None:
        self.tasks: DataLoader[int, list[TicketTask]] = _loader(
            lambda ids: reads.tasks(actor, ids), list
        )
        self.links: DataLoader[int, list[TicketLink]] = _loader(
            lambda ids: reads.links(actor, ids), list
        )
        self.time_entries: DataLoader[int, list[TimeEntry]] = _loader(
            lambda ids: reads.time_entries(actor, ids), list
        )
        self.minutes: DataLoader[int, int | None] = _loader(
            lambda ids: reads.minutes(actor, ids), lambda: None
        )
        self.ratings: DataLoader[int, TicketRating | None] = _loader(
            lambda ids: reads.ratings(actor, ids), lambda: None
        )


def collaboration_loaders(info: Info) -> CollaborationLoaders:
    loaders = info.context.loaders
    found = loaders.extra.get("collaboration")
    if found is None:
        actor = info.context.known_actor
        assert actor is not None  # the ticket above was loaded for an authenticated caller
        found = CollaborationLoaders(info.context.services.collaboration, actor)
        loaders.extra["collaboration"] = found
    assert isinstance(found, CollaborationLoaders)
    return found

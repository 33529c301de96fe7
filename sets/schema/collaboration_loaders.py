"""Per-request DataLoaders for the collaboration fields of Ticket (tasks, links, time,
rating), kept by `Loaders.feature` so they live and die with the request's other loaders."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from sets.domain.actor import Actor
from sets.models import TicketLink, TicketRating, TicketTask, TimeEntry
from sets.schema.context import Info
from sets.schema.loaders import by_key
from sets.services.collaboration import CollaborationReads


class CollaborationLoaders:
    def __init__(self, reads: CollaborationReads, actor: Actor) -> None:
        self.tasks: DataLoader[int, list[TicketTask]] = by_key(
            lambda ids: reads.tasks(actor, ids), list
        )
        self.links: DataLoader[int, list[TicketLink]] = by_key(
            lambda ids: reads.links(actor, ids), list
        )
        self.time_entries: DataLoader[int, list[TimeEntry]] = by_key(
            lambda ids: reads.time_entries(actor, ids), list
        )
        self.minutes: DataLoader[int, int | None] = by_key(
            lambda ids: reads.minutes(actor, ids), lambda: None
        )
        self.ratings: DataLoader[int, TicketRating | None] = by_key(
            lambda ids: reads.ratings(actor, ids), lambda: None
        )


def collaboration_loaders(info: Info) -> CollaborationLoaders:
    reads = info.context.services.collaboration
    return info.context.loaders.feature(
        "collaboration", lambda actor: CollaborationLoaders(reads, actor)
    )

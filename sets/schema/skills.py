"""The per-request DataLoader behind `User.skills` (issue 7's auto-assignment), kept by
`Loaders.feature` so it lives and dies with the request's other loaders."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from sets.domain.actor import Actor
from sets.schema.context import Info
from sets.schema.loaders import by_key
from sets.services.assignment import AssignmentReads


def skills_loader(info: Info) -> DataLoader[int, list[str]]:
    reads = AssignmentReads(info.context.services.db.reader)

    def make(actor: Actor) -> DataLoader[int, list[str]]:
        return by_key(lambda user_ids: reads.skills_of_users(actor, user_ids), list)

    return info.context.loaders.feature("skills", make)

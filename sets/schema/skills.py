"""The per-request DataLoader behind `User.skills` (issue 7's auto-assignment), kept in
`Loaders.extra` so it lives and dies with the request's other loaders."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from sets.schema.context import Info
from sets.services.assignment import AssignmentReads


def skills_loader(info: Info) -> DataLoader[int, list[str]]:
    loaders = info.context.loaders
    found = loaders.extra.get("skills")
    if found is None:
        actor = info.context.known_actor
        assert actor is not None  # loaders exist only for an authenticated caller
        reads = AssignmentReads(info.context.services.db.reader)

        async def load(user_ids: list[int]) -> list[list[str]]:
            skills = await reads.skills_of_users(actor, user_ids)
            return [skills.get(uid, []) for uid in user_ids]

        found = DataLoader(load_fn=load)
        loaders.extra["skills"] = found
    assert isinstance(found, DataLoader)
    return found

"""CSAT (SPEC §9): the requester rates a resolved or closed ticket once, 1-5 with a comment."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from sets.domain import csat as rules
from sets.domain.actor import Actor
from sets.domain.enums import EventKind
from sets.domain.errors import Conflict
from sets.models import TicketRating
from sets.repositories.collaboration import CollaborationRepository
from sets.services.collaboration import commit, load_ticket
from sets.services.uow import UnitOfWork


class CsatService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    async def rate(
        self, actor: Actor, ticket_id: int, *, score: int, comment: str | None = None
    ) -> TicketRating:
        score = rules.score(score)
        comment = rules.comment(comment)
        async with self._uow() as uow:
            # Closed tickets are rated too: the rating is feedback, not a change to the ticket.
            ticket = await load_ticket(uow, actor, ticket_id, open_only=False)
            repo = CollaborationRepository(uow.session)
            rules.check_can_rate(
                actor, ticket, already_rated=await repo.rating(ticket.id) is not None
            )
            assert actor.user_id is not None
            rating = TicketRating(
                ticket_id=ticket.id,
                rater_id=actor.user_id,
                score=score,
                comment=comment,
                created_at=uow.clock.now(),
            )
            repo.add(rating)
            try:
                await uow.session.flush()
            except IntegrityError as exc:  # a concurrent rating won the unique constraint
                raise Conflict("you have already rated this ticket", field="ticketId") from exc
            uow.record(
                ticket,
                EventKind.RATED,
                actor.user_id,
                {"ratingId": rating.id, "score": score, "commented": comment is not None},
            )
            await commit(uow)
            return rating

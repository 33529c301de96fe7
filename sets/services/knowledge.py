"""Knowledge capture (issue 7): staff publish a resolution as an article; everyone searches
them, requesters among published ones only."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain import knowledge as rules
from sets.domain import permissions
from sets.domain.actor import Actor
from sets.domain.collaboration import ensure_can_collaborate
from sets.domain.enums import EventKind
from sets.domain.errors import NotFound, ValidationFailed
from sets.models import KnowledgeArticle
from sets.repositories.collaboration import CollaborationRepository
from sets.services.collaboration import commit, load_ticket
from sets.services.uow import UnitOfWork


class KnowledgeService:
    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self._uow = uow_factory
        self._sessions = sessions

    async def capture(
        self,
        actor: Actor,
        ticket_id: int,
        *,
        title: str | None = None,
        body: str | None = None,
        category_id: int | None = None,
        publish: bool = True,
    ) -> KnowledgeArticle:
        """From a RESOLVED (or CLOSED) ticket; title, body and category default to the
        ticket's title, resolution and category."""
        if actor.user_id is None:
            raise ValidationFailed("articles are written by people", field="ticketId")
        async with self._uow() as uow:
            ticket = await load_ticket(uow, actor, ticket_id, open_only=False)
            ensure_can_collaborate(actor, ticket, "capture its resolution")
            rules.check_capturable(ticket, ticket.resolution)
            if category_id is not None and await uow.catalog.category(category_id) is None:
                raise NotFound("category not found", field="categoryId")
            now = uow.clock.now()
            article = KnowledgeArticle(
                title=rules.title(title if title is not None else ticket.title),
                body=rules.body(body if body is not None else ticket.resolution),
                category_id=category_id if category_id is not None else ticket.category_id,
                source_ticket_id=ticket.id,
                author_id=actor.user_id,
                published=publish,
                created_at=now,
                updated_at=now,
            )
            CollaborationRepository(uow.session).add(article)
            await uow.session.flush()
            uow.record(
                ticket,
                EventKind.KNOWLEDGE_CAPTURED,
                actor.user_id,
                {"articleId": article.id, "published": publish},
                internal=True,
            )
            await commit(uow)
            return article

    async def set_published(
        self, actor: Actor, article_id: int, *, published: bool
    ) -> KnowledgeArticle:
        permissions.ensure_staff(actor)
        async with self._uow() as uow:
            article = await CollaborationRepository(uow.session).article(article_id)
            if article is None:
                raise NotFound("article not found", field="articleId")
            if article.published == published:
                state = "published" if published else "a draft"
                raise ValidationFailed(f"the article is already {state}", field="articleId")
            article.published = published
            article.updated_at = uow.clock.now()
            await uow.commit()
            return article

    async def search(
        self, actor: Actor, search: str | None, *, first: int = rules.MAX_RESULTS
    ) -> list[KnowledgeArticle]:
        words = rules.search_words(search)
        limit = max(1, min(first, rules.MAX_RESULTS))
        async with self._sessions() as session:
            return await CollaborationRepository(session).articles(
                words, published_only=rules.published_only(actor), limit=limit
            )

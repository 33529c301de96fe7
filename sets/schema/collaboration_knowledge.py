"""Knowledge articles over GraphQL (issue 7): capture a resolution, publish, search."""

from __future__ import annotations

from datetime import datetime

import strawberry

from sets.domain.errors import DomainError
from sets.models import KnowledgeArticle as ArticleRow
from sets.schema.context import Info
from sets.schema.errors import UserError, coded_error
from sets.schema.ids import from_global_id, ticket_pk, to_global_id
from sets.schema.tickets import attempt, optional_pk
from sets.schema.types import Category, Node, Ticket, User


@strawberry.type(description="A knowledge article, usually captured from a ticket's resolution.")
class KnowledgeArticle(Node):
    id: strawberry.ID
    row: strawberry.Private[ArticleRow]
    title: str
    body: str
    published: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: ArticleRow) -> KnowledgeArticle:
        return cls(
            id=strawberry.ID(to_global_id("KnowledgeArticle", row.id)),
            row=row,
            title=row.title,
            body=row.body,
            published=row.published,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    async def category(self, info: Info) -> Category | None:
        if self.row.category_id is None:
            return None
        found = await info.context.loaders.categories.load(self.row.category_id)
        return Category.from_row(found) if found else None

    @strawberry.field(description="The ticket it came from, if the caller may see it.")
    async def source_ticket(self, info: Info) -> Ticket | None:
        if self.row.source_ticket_id is None:
            return None
        found = await info.context.loaders.tickets.load(self.row.source_ticket_id)
        return Ticket.from_row(found) if found else None

    @strawberry.field
    async def author(self, info: Info) -> User | None:
        found = await info.context.loaders.users.load(self.row.author_id)
        return User.from_row(found) if found else None


@strawberry.input
class CaptureKnowledgeInput:
    ticket_id: strawberry.ID
    title: str | None = strawberry.field(default=None, description="Default: the ticket's.")
    body: str | None = strawberry.field(default=None, description="Default: the resolution.")
    category_id: strawberry.ID | None = strawberry.field(
        default=None, description="Default: the ticket's category."
    )
    publish: bool = strawberry.field(default=True, description="false: keep it a draft.")


@strawberry.input
class SetArticlePublishedInput:
    article_id: strawberry.ID
    published: bool


@strawberry.type
class KnowledgeArticlePayload:
    article: KnowledgeArticle | None
    user_errors: list[UserError]


@strawberry.type
class KnowledgeQueries:
    @strawberry.field(
        description="Articles, newest first; every word of `search` must occur in the title "
        "or body. Requesters see published articles only. At most 50."
    )
    async def knowledge_articles(
        self, info: Info, search: str | None = None, first: int | None = None
    ) -> list[KnowledgeArticle]:
        actor = await info.context.actor()
        try:
            rows = await info.context.services.knowledge.search(actor, search, first=first or 50)
        except DomainError as exc:
            raise coded_error(exc) from exc
        return [KnowledgeArticle.from_row(r) for r in rows]


@strawberry.type
class KnowledgeMutations:
    @strawberry.mutation(description="Publish a resolved ticket's resolution as an article.")
    async def capture_knowledge(
        self, info: Info, input: CaptureKnowledgeInput
    ) -> KnowledgeArticlePayload:
        actor = await info.context.actor()
        svc = info.context.services.knowledge
        row, errors = await attempt(
            lambda: svc.capture(
                actor,
                ticket_pk(input.ticket_id),
                title=input.title,
                body=input.body,
                category_id=optional_pk(input.category_id, "Category", "categoryId"),
                publish=input.publish,
            )
        )
        return KnowledgeArticlePayload(
            article=KnowledgeArticle.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(description="Publish a draft article, or take one back (staff).")
    async def set_knowledge_article_published(
        self, info: Info, input: SetArticlePublishedInput
    ) -> KnowledgeArticlePayload:
        actor = await info.context.actor()
        svc = info.context.services.knowledge
        row, errors = await attempt(
            lambda: svc.set_published(
                actor,
                from_global_id(input.article_id, "KnowledgeArticle", field="articleId"),
                published=input.published,
            )
        )
        return KnowledgeArticlePayload(
            article=KnowledgeArticle.from_row(row) if row else None, user_errors=errors
        )

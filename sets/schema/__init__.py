"""The GraphQL schema: per-domain query and mutation types merged into one."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from sets.config import Settings
from sets.domain.errors import DomainError
from sets.schema.analytics import AnalyticsQueries
from sets.schema.attachments import Attachment, AttachmentMutations
from sets.schema.catalog import CatalogMutations, CatalogQueries
from sets.schema.collaboration import (
    CollaborationMutations,
    CollaborationQueries,
    Task,
    TicketLink,
    TimeEntry,
)
from sets.schema.collaboration_knowledge import (
    KnowledgeArticle,
    KnowledgeMutations,
    KnowledgeQueries,
)
from sets.schema.context import Info
from sets.schema.dashboard import DashboardQueries
from sets.schema.errors import ShapeErrors, coded_error
from sets.schema.execution import FastExecutor
from sets.schema.ids import parse_global_id
from sets.schema.limits import CachedDocuments, DocumentCache, cost_rule
from sets.schema.notifications import Notification, NotificationMutations, NotificationQueries
from sets.schema.people import PeopleMutations, PeopleQueries
from sets.schema.saved_searches import SavedSearchMutations, SavedSearchQueries
from sets.schema.sla import SlaMutations, SlaQueries
from sets.schema.subscriptions import LoaderScopes, Subscription
from sets.schema.tickets import TicketMutations, TicketQueries
from sets.schema.types import Category, Comment, Node, Team, Ticket, User


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        actor = await info.context.actor()
        reads = info.context.services.reads
        try:
            type_name, pk = parse_global_id(id)
            if type_name == "Ticket":
                return Ticket.from_row(await reads.ticket(actor, pk))
            if type_name == "Comment":
                return Comment.from_row(await reads.comment(actor, pk))
            if type_name == "User":
                return User.from_row(await reads.user(actor, pk))
            if type_name == "Team":
                return Team.from_row(await reads.team(pk))
            if type_name == "Category":
                return Category.from_row(await reads.category(pk))
            if type_name == "Attachment":
                return Attachment.from_row(await info.context.services.attachments.get(actor, pk))
            if type_name == "Notification":
                notifications = info.context.services.notifications
                return Notification.from_row(await notifications.get(actor, pk))
            collab = info.context.services.collaboration
            if type_name == "Task":
                return Task.from_row(await collab.task(actor, pk))
            if type_name == "TicketLink":
                return TicketLink.from_row(await collab.link(actor, pk))
            if type_name == "TimeEntry":
                return TimeEntry.from_row(await collab.time_entry(actor, pk))
            if type_name == "KnowledgeArticle":
                return KnowledgeArticle.from_row(await collab.article(actor, pk))
        except DomainError as exc:
            raise coded_error(exc) from exc
        return None


Query = merge_types(
    "Query",
    (
        NodeQueries,
        PeopleQueries,
        TicketQueries,
        CatalogQueries,
        SlaQueries,
        SavedSearchQueries,
        AnalyticsQueries,
        DashboardQueries,
        NotificationQueries,
        CollaborationQueries,
        KnowledgeQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        PeopleMutations,
        TicketMutations,
        CatalogMutations,
        SlaMutations,
        SavedSearchMutations,
        NotificationMutations,
        CollaborationMutations,
        KnowledgeMutations,
        AttachmentMutations,
    ),
)

MAX_COST = 25_000


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    # The rules are built once: a document checked against them is cached with its errors.
    rules: list[type[ASTValidationRule]] = [
        depth_rule(settings.max_query_depth, None),
        alias_rule(settings.max_aliases),
        cost_rule(MAX_COST),
    ]
    documents = DocumentCache(maxsize=256)
    # Factories: each request gets fresh extension instances. None of them has a `resolve`
    # hook, which graphql-core would call around every field.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        ShapeErrors,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(rules),
        lambda: CachedDocuments(documents),
        LoaderScopes,
    ]
    if settings.production:
        extensions.append(DisableIntrospection)
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Ticket, User, Team, Category, Comment],
        extensions=extensions,
        execution_context_class=FastExecutor,
        config=StrawberryConfig(
            relay_max_results=100, disable_field_suggestions=settings.production
        ),
    )
    schema.documents = documents  # type: ignore[attr-defined]  # for tests and benchmarks
    return schema

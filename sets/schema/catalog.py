"""Categories, priority rules, SLA policies and the audit-chain check."""

from __future__ import annotations

import strawberry

from sets.domain.enums import Priority
from sets.domain.errors import DomainError
from sets.schema.context import Info
from sets.schema.errors import UserError, coded_error
from sets.schema.ids import from_global_id, ticket_pk, to_global_id
from sets.schema.tickets import attempt, optional_pk
from sets.schema.types import Category, PriorityRule


@strawberry.type
class ChainBreak:
    ticket_id: strawberry.ID
    seq: int
    problem: str


@strawberry.type(description="Result of re-computing the audit hash chain.")
class AuditChainReport:
    events_checked: int
    ok: bool
    breaks: list[ChainBreak]


@strawberry.type
class CatalogQueries:
    @strawberry.field(description="Categories a ticket can be filed under.")
    async def categories(self, info: Info) -> list[Category]:
        await info.context.actor()
        return [Category.from_row(c) for c in await info.context.services.reads.categories()]

    @strawberry.field(description="Staff only: rules that set a new ticket's priority, in order.")
    async def priority_rules(self, info: Info) -> list[PriorityRule]:
        actor = await info.context.actor()
        try:
            rows = await info.context.services.reads.priority_rules(actor)
        except DomainError as exc:
            raise coded_error(exc) from exc
        return [PriorityRule.from_row(r) for r in rows]

    @strawberry.field(description="Admin only: verify the audit trail has not been tampered with.")
    async def audit_chain(
        self, info: Info, ticket_id: strawberry.ID | None = None
    ) -> AuditChainReport:
        actor = await info.context.actor()
        try:
            pk = ticket_pk(ticket_id, field="ticketId") if ticket_id else None
            checked, breaks = await info.context.services.reads.verify_audit_chain(actor, pk)
        except DomainError as exc:
            raise coded_error(exc) from exc
        return AuditChainReport(
            events_checked=checked,
            ok=not breaks,
            breaks=[
                ChainBreak(
                    ticket_id=strawberry.ID(to_global_id("Ticket", b.ticket_id)),
                    seq=b.seq,
                    problem=b.problem,
                )
                for b in breaks
            ],
        )


@strawberry.input(description="Without `categoryId` a category is created.")
class SaveCategoryInput:
    category_id: strawberry.ID | None = None
    name: str | None = None
    description: str | None = None
    default_priority: Priority | None = None
    clear_default_priority: bool = False
    team_id: strawberry.ID | None = None
    external_team_id: strawberry.ID | None = None
    is_default: bool | None = None
    required_skill: str | None = strawberry.field(
        default=None, description="The skill auto-assignment looks for (a lowercase slug)."
    )
    clear_required_skill: bool = False
    auto_assign: bool | None = strawberry.field(
        default=None, description="Assign new tickets automatically; needs an internal team."
    )


@strawberry.input
class DeleteCategoryInput:
    category_id: strawberry.ID


@strawberry.type
class CategoryPayload:
    category: Category | None
    user_errors: list[UserError]


@strawberry.input(description="Without `ruleId` a rule is created. Lower positions win.")
class SavePriorityRuleInput:
    rule_id: strawberry.ID | None = None
    name: str | None = None
    position: int | None = None
    priority: Priority | None = None
    category_id: strawberry.ID | None = None
    clear_category: bool = False
    keywords: list[str] | None = None


@strawberry.input
class DeletePriorityRuleInput:
    rule_id: strawberry.ID


@strawberry.type
class PriorityRulePayload:
    rule: PriorityRule | None
    user_errors: list[UserError]


@strawberry.type
class CatalogMutations:
    @strawberry.mutation(description="Admin only.")
    async def save_category(self, info: Info, input: SaveCategoryInput) -> CategoryPayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        row, errors = await attempt(
            lambda: admin.save_category(
                actor,
                category_id=optional_pk(input.category_id, "Category", "categoryId"),
                name=input.name,
                description=input.description,
                default_priority=input.default_priority,
                clear_default_priority=input.clear_default_priority,
                team_id=optional_pk(input.team_id, "Team", "teamId"),
                external_team_id=optional_pk(input.external_team_id, "Team", "externalTeamId"),
                is_default=input.is_default,
                required_skill=input.required_skill,
                clear_required_skill=input.clear_required_skill,
                auto_assign=input.auto_assign,
            )
        )
        return CategoryPayload(category=Category.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(description="Admin only. Existing tickets keep their category.")
    async def delete_category(self, info: Info, input: DeleteCategoryInput) -> CategoryPayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        row, errors = await attempt(
            lambda: admin.delete_category(
                actor, from_global_id(input.category_id, "Category", field="categoryId")
            )
        )
        return CategoryPayload(category=Category.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(description="Admin only.")
    async def save_priority_rule(
        self, info: Info, input: SavePriorityRuleInput
    ) -> PriorityRulePayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        row, errors = await attempt(
            lambda: admin.save_priority_rule(
                actor,
                rule_id=optional_pk(input.rule_id, "PriorityRule", "ruleId"),
                name=input.name,
                position=input.position,
                priority=input.priority,
                category_id=optional_pk(input.category_id, "Category", "categoryId"),
                clear_category=input.clear_category,
                keywords=input.keywords,
            )
        )
        return PriorityRulePayload(
            rule=PriorityRule.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(description="Admin only.")
    async def delete_priority_rule(
        self, info: Info, input: DeletePriorityRuleInput
    ) -> PriorityRulePayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        row, errors = await attempt(
            lambda: admin.delete_priority_rule(
                actor, from_global_id(input.rule_id, "PriorityRule", field="ruleId")
            )
        )
        return PriorityRulePayload(
            rule=PriorityRule.from_row(row) if row else None, user_errors=errors
        )

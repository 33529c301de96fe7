"""SLA and escalation policies: read by staff, edited by admins."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from sets.domain.calendar import calendar_from_dict
from sets.domain.enums import Priority, TicketStatus
from sets.domain.errors import DomainError
from sets.domain.escalation import EscalationAction, parse_actions
from sets.models import EscalationPolicy as EscalationPolicyRow
from sets.models import SlaPolicy as SlaPolicyRow
from sets.schema.context import Info
from sets.schema.errors import UserError, coded_error
from sets.schema.ids import from_global_id
from sets.schema.tickets import attempt
from sets.schema.types import Team

strawberry.enum(EscalationAction, description="What reaching an escalation level does.")


@strawberry.type(description="Open from `start` to `end` (HH:MM, 24:00 = midnight) on a weekday.")
class BusinessHours:
    weekday: int = strawberry.field(description="0 = Monday ... 6 = Sunday")
    start: str
    end: str


@strawberry.type(description="SLA time counts only inside these hours, in this time zone.")
class BusinessCalendar:
    time_zone: str
    hours: list[BusinessHours]
    holidays: list[date]


@strawberry.type
class SlaPolicy:
    priority: Priority
    first_response_minutes: int
    resolution_minutes: int
    warning_percent: int
    pause_statuses: list[TicketStatus]
    calendar: BusinessCalendar | None = strawberry.field(
        description="Null: the clock runs round the clock."
    )

    @classmethod
    def from_row(cls, row: SlaPolicyRow) -> SlaPolicy:
        found = calendar_from_dict(row.calendar)
        calendar = None
        if not found.always_open:
            calendar = BusinessCalendar(
                time_zone=found.time_zone,
                hours=[
                    BusinessHours(
                        weekday=o.weekday,
                        start=o.start.strftime("%H:%M"),
                        end="24:00" if o.ends_at_midnight else o.end.strftime("%H:%M"),
                    )
                    for o in found.openings
                ],
                holidays=sorted(found.holidays),
            )
        return cls(
            priority=Priority(row.priority),
            first_response_minutes=row.first_response_minutes,
            resolution_minutes=row.resolution_minutes,
            warning_percent=row.warning_percent,
            pause_statuses=[TicketStatus(s) for s in row.pause_statuses.split(",") if s],
            calendar=calendar,
        )


@strawberry.type
class EscalationPolicy:
    level: int
    after_breach_percent: int = strawberry.field(
        description="Reached this % of the resolution target after the breach (0 = at it)."
    )
    actions: list[EscalationAction]
    target_team_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: EscalationPolicyRow) -> EscalationPolicy:
        return cls(
            level=row.level,
            after_breach_percent=row.after_breach_percent,
            actions=sorted(parse_actions(row.actions)),
            target_team_pk=row.target_team_id,
        )

    @strawberry.field(
        description="Where ROUTE_TO_TIER2 sends tickets; null: the first tier-2 team."
    )
    async def target_team(self, info: Info) -> Team | None:
        if self.target_team_pk is None:
            return None
        row = await info.context.loaders.teams.load(self.target_team_pk)
        return Team.from_row(row) if row else None


@strawberry.type
class SlaQueries:
    @strawberry.field(description="Staff only: SLA targets per priority.")
    async def sla_policies(self, info: Info) -> list[SlaPolicy]:
        actor = await info.context.actor()
        try:
            rows = await info.context.services.reads.sla_policies(actor)
        except DomainError as exc:
            raise coded_error(exc) from exc
        return [SlaPolicy.from_row(r) for r in rows]

    @strawberry.field(description="Staff only: escalation levels 1-3.")
    async def escalation_policies(self, info: Info) -> list[EscalationPolicy]:
        actor = await info.context.actor()
        try:
            rows = await info.context.services.reads.escalation_policies(actor)
        except DomainError as exc:
            raise coded_error(exc) from exc
        return [EscalationPolicy.from_row(r) for r in rows]


@strawberry.input
class BusinessHoursInput:
    weekday: int
    start: str
    end: str


@strawberry.input
class BusinessCalendarInput:
    time_zone: str
    hours: list[BusinessHoursInput]
    holidays: list[date] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateSlaPolicyInput:
    priority: Priority
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warning_percent: int | None = None
    pause_statuses: list[TicketStatus] | None = None
    calendar: BusinessCalendarInput | None = None
    clear_calendar: bool = False


@strawberry.type
class SlaPolicyPayload:
    policy: SlaPolicy | None
    user_errors: list[UserError]


@strawberry.input
class UpdateEscalationPolicyInput:
    level: int
    after_breach_percent: int | None = None
    actions: list[EscalationAction] | None = None
    target_team_id: strawberry.ID | None = None
    clear_target_team: bool = False


@strawberry.type
class EscalationPolicyPayload:
    policy: EscalationPolicy | None
    user_errors: list[UserError]


def _calendar(value: BusinessCalendarInput | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "timeZone": value.time_zone,
        "hours": [{"weekday": h.weekday, "start": h.start, "end": h.end} for h in value.hours],
        "holidays": [d.isoformat() for d in value.holidays],
    }


@strawberry.type
class SlaMutations:
    @strawberry.mutation(description="Admin only. Open tickets are re-evaluated by the next sweep.")
    async def update_sla_policy(self, info: Info, input: UpdateSlaPolicyInput) -> SlaPolicyPayload:
        actor = await info.context.actor()
        policies = info.context.services.policies
        row, errors = await attempt(
            lambda: policies.update_sla_policy(
                actor,
                input.priority,
                first_response_minutes=input.first_response_minutes,
                resolution_minutes=input.resolution_minutes,
                warning_percent=input.warning_percent,
                pause_statuses=input.pause_statuses,
                calendar=_calendar(input.calendar),
                clear_calendar=input.clear_calendar,
            )
        )
        return SlaPolicyPayload(policy=SlaPolicy.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(description="Admin only.")
    async def update_escalation_policy(
        self, info: Info, input: UpdateEscalationPolicyInput
    ) -> EscalationPolicyPayload:
        actor = await info.context.actor()
        policies = info.context.services.policies
        row, errors = await attempt(
            lambda: policies.update_escalation_step(
                actor,
                input.level,
                after_breach_percent=input.after_breach_percent,
                actions=input.actions,
                target_team_id=(
                    from_global_id(input.target_team_id, "Team", field="targetTeamId")
                    if input.target_team_id
                    else None
                ),
                clear_target_team=input.clear_target_team,
            )
        )
        return EscalationPolicyPayload(
            policy=EscalationPolicy.from_row(row) if row else None, user_errors=errors
        )

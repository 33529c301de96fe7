"""Admins edit SLA and escalation policies; open tickets are re-evaluated by the next sweep."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import ColumnElement, update

from sets.domain import permissions
from sets.domain.actor import Actor
from sets.domain.calendar import calendar_from_dict, calendar_to_dict
from sets.domain.enums import Priority, TicketStatus
from sets.domain.errors import NotFound, ValidationFailed
from sets.domain.escalation import MAX_LEVEL, EscalationAction, format_actions
from sets.models import EscalationPolicy, SlaPolicy, Ticket
from sets.services.uow import UnitOfWork

PAUSABLE = frozenset({TicketStatus.PENDING, TicketStatus.BLOCKED})
MAX_TARGET_MINUTES = 60 * 24 * 365


def _minutes(value: int, field: str) -> int:
    if not 1 <= value <= MAX_TARGET_MINUTES:
        raise ValidationFailed(f"{field} must be between 1 minute and a year", field=field)
    return value


class PolicyService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    async def update_sla_policy(
        self,
        actor: Actor,
        priority: Priority,
        *,
        first_response_minutes: int | None = None,
        resolution_minutes: int | None = None,
        warning_percent: int | None = None,
        pause_statuses: Sequence[TicketStatus] | None = None,
        calendar: Mapping[str, object] | None = None,
        clear_calendar: bool = False,
    ) -> SlaPolicy:
        permissions.ensure_admin(actor)
        async with self._uow() as uow:
            policy = await uow.catalog.sla_policy(priority)
            if policy is None:
                raise NotFound(f"no SLA policy for {priority}", field="priority")
            if first_response_minutes is not None:
                policy.first_response_minutes = _minutes(
                    first_response_minutes, "firstResponseMinutes"
                )
            if resolution_minutes is not None:
                policy.resolution_minutes = _minutes(resolution_minutes, "resolutionMinutes")
            if policy.first_response_minutes > policy.resolution_minutes:
                raise ValidationFailed(
                    "the first response cannot be due after the resolution",
                    field="firstResponseMinutes",
                )
            if warning_percent is not None:
                if not 1 <= warning_percent <= 99:
                    raise ValidationFailed(
                        "the warning comes at 1-99 % of the target", field="warningPercent"
                    )
                policy.warning_percent = warning_percent
            if pause_statuses is not None:
                if not set(pause_statuses) <= PAUSABLE:
                    raise ValidationFailed(
                        "only PENDING and BLOCKED can pause the clock", field="pauseStatuses"
                    )
                policy.pause_statuses = ",".join(sorted(s.value for s in set(pause_statuses)))
            if clear_calendar:
                policy.calendar = None
            elif calendar is not None:
                policy.calendar = calendar_to_dict(calendar_from_dict(calendar))
            policy.updated_at = uow.clock.now()
            await self._reevaluate(uow, priority)
            await uow.commit()
            return policy

    async def update_escalation_step(
        self,
        actor: Actor,
        level: int,
        *,
        after_breach_percent: int | None = None,
        actions: Sequence[EscalationAction] | None = None,
        target_team_id: int | None = None,
        clear_target_team: bool = False,
    ) -> EscalationPolicy:
        permissions.ensure_admin(actor)
        if not 1 <= level <= MAX_LEVEL:
            raise ValidationFailed(f"levels are 1 to {MAX_LEVEL}", field="level")
        async with self._uow() as uow:
            step = await uow.catalog.escalation_policy(level)
            if step is None:
                raise NotFound(f"no escalation policy for level {level}", field="level")
            if after_breach_percent is not None:
                if not 0 <= after_breach_percent <= 10_000:
                    raise ValidationFailed(
                        "the moment is 0-10000 % of the resolution target after the breach",
                        field="afterBreachPercent",
                    )
                step.after_breach_percent = after_breach_percent
            if actions is not None:
                step.actions = format_actions(frozenset(actions))
            if clear_target_team:
                step.target_team_id = None
            elif target_team_id is not None:
                if await uow.teams.get(target_team_id) is None:
                    raise NotFound("team not found", field="targetTeamId")
                step.target_team_id = target_team_id
            others = {s.level: s for s in await uow.catalog.escalation_policies()}
            others[level] = step
            moments = [others[lv].after_breach_percent for lv in sorted(others)]
            if moments != sorted(moments):
                raise ValidationFailed(
                    "a higher level cannot come before a lower one", field="afterBreachPercent"
                )
            step.updated_at = uow.clock.now()
            await self._reevaluate(uow, None)
            await uow.commit()
            return step

    @staticmethod
    async def _reevaluate(uow: UnitOfWork, priority: Priority | None) -> None:
        """Open, running tickets are due for a check now: the sweep recomputes their due times
        with the new policy (one statement, not a loop over tickets)."""
        clauses: list[ColumnElement[bool]] = [
            Ticket.status.in_([s for s in TicketStatus if s.is_open]),
            Ticket.sla_stopped_since.is_(None),
            Ticket.deleted_at.is_(None),
        ]
        if priority is not None:
            clauses.append(Ticket.priority == priority)
        await uow.session.execute(
            update(Ticket)
            .where(*clauses)
            .values(next_sla_check_at=uow.clock.now())
            .execution_options(synchronize_session=False)
        )

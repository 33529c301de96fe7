"""The signed-in user's dashboard: four ticket lists in one round trip (the service reads
them in one statement; nested fields go through the DataLoaders like any ticket list)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from sets.domain.errors import DomainError
from sets.schema.context import Info
from sets.schema.errors import coded_error
from sets.schema.types import Ticket
from sets.services import dashboard as board


@strawberry.type
class DashboardList:
    total_count: int = strawberry.field(description="All that match; `tickets` shows the first.")
    tickets: list[Ticket]

    @classmethod
    def of(cls, found: board.TicketList) -> DashboardList:
        return cls(total_count=found.total, tickets=[Ticket.from_row(t) for t in found.tickets])


@strawberry.type(description="What needs the signed-in user's attention, in one round trip.")
class Dashboard:
    generated_at: datetime
    breaching_before: datetime
    my_tickets: DashboardList = strawberry.field(
        description="Staff: open tickets assigned to me, most urgent first. Requesters: "
        "my open tickets, latest activity first."
    )
    team_queue: DashboardList = strawberry.field(
        description="Unassigned open tickets of my teams (admins: all), P1 and oldest first."
    )
    recently_resolved: DashboardList = strawberry.field(
        description="Resolved or closed in the last 7 days: mine or my teams' (requesters: "
        "my own), newest first."
    )
    breaching_soon: DashboardList = strawberry.field(
        description="Open tickets of mine or my teams whose next SLA target falls before "
        "`breachingBefore` (clock running, not yet breached), soonest first."
    )


@strawberry.type
class DashboardQueries:
    @strawberry.field(description="The signed-in user's ticket lists.")
    async def dashboard(
        self, info: Info, first: int = 10, breaching_within_minutes: int = 240
    ) -> Dashboard:
        actor = await info.context.actor()
        try:
            found = await info.context.services.dashboard.for_actor(
                actor, first=first, horizon_minutes=breaching_within_minutes
            )
        except DomainError as exc:
            raise coded_error(exc) from exc
        return Dashboard(
            generated_at=found.generated_at,
            breaching_before=found.breaching_before,
            my_tickets=DashboardList.of(found.my_tickets),
            team_queue=DashboardList.of(found.team_queue),
            recently_resolved=DashboardList.of(found.recently_resolved),
            breaching_soon=DashboardList.of(found.breaching_soon),
        )

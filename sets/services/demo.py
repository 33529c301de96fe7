"""Demo data for `make run` and `sets demo`: one user per role, teams, categories, tickets."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from sets.domain.actor import Actor
from sets.domain.enums import Priority, Role, TicketStatus, Urgency
from sets.models import User
from sets.services.auth import actor_for
from sets.services.container import Services

DEMO_PASSWORD = "sets-demo-password"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    teams: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()


DEMO_USERS = (
    DemoUser("admin@example.com", "Ada Admin", Role.ADMIN),
    DemoUser("manager@example.com", "Max Manager", Role.MANAGER, ("Service Desk",), ("payments",)),
    DemoUser(
        "agent@example.com", "Alex Agent", Role.AGENT, ("Service Desk",), ("hardware", "printers")
    ),
    DemoUser("senior@example.com", "Sam Senior", Role.MANAGER, ("Senior Support",), ("network",)),
    DemoUser("vendor@example.com", "Vic Vendor", Role.AGENT, ("Vendor IT",), ("network", "vpn")),
    DemoUser("requester@example.com", "Rita Requester", Role.REQUESTER),
    DemoUser("clinic@example.com", "Carl Clinic", Role.REQUESTER),
)


async def has_users(services: Services) -> bool:
    async with services.db.reader() as session:
        return bool(await session.scalar(select(func.count()).select_from(User)))


async def load_demo(services: Services) -> dict[str, int]:
    """Idempotent: does nothing when any user exists."""
    if await has_users(services):
        return {}
    system = Actor.system()
    admin = services.admin
    teams = {
        "Service Desk": await admin.create_team(system, name="Service Desk", tier=1),
        "Senior Support": await admin.create_team(system, name="Senior Support", tier=2),
        "Vendor IT": await admin.create_team(system, name="Vendor IT", tier=3, external=True),
    }
    users: dict[str, User] = {}
    for spec in DEMO_USERS:
        user = await admin.create_user(
            system, email=spec.email, name=spec.name, role=spec.role, password=DEMO_PASSWORD
        )
        users[spec.email] = user
        for team in spec.teams:
            await admin.set_membership(system, team_id=teams[team].id, user_id=user.id, member=True)
        if spec.skills:
            await admin.set_user_skills(system, user.id, list(spec.skills))
    desk = teams["Service Desk"].id
    general = await admin.save_category(system, name="General", team_id=desk, is_default=True)
    payment = await admin.save_category(
        system, name="Payment", team_id=desk, default_priority=Priority.P2
    )
    # Auto-assignment stays off: an admin turns it on (saveCategory autoAssign) to try it.
    await admin.save_category(system, name="Hardware", team_id=desk, required_skill="hardware")
    network = await admin.save_category(
        system,
        name="Network",
        team_id=desk,
        external_team_id=teams["Vendor IT"].id,
        required_skill="network",
    )
    await admin.save_priority_rule(
        system,
        name="Payments are critical",
        position=10,
        priority=Priority.P1,
        category_id=payment.id,
    )
    await admin.save_priority_rule(
        system,
        name="Outages are critical",
        position=20,
        priority=Priority.P1,
        keywords=["outage", "down"],
    )

    rita = _actor(users["requester@example.com"])
    carl = _actor(users["clinic@example.com"])
    agent_user = users["agent@example.com"]
    agent = actor_for(agent_user, [(desk, False)])
    tickets = services.tickets
    t1 = await tickets.create(
        rita,
        title="Printer on floor 2 is offline",
        description="It shows error E-42.",
        category_id=general.id,
        urgency=Urgency.NORMAL,
    )
    await tickets.create(
        carl,
        title="Card terminal declines every payment",
        description="Since this morning the clinic's terminal declines all cards.",
        category_id=payment.id,
    )
    t3 = await tickets.create(
        rita,
        title="VPN keeps disconnecting",
        description="Every 10 minutes or so.",
        category_id=network.id,
        urgency=Urgency.HIGH,
    )
    await tickets.assign(agent, t1.id, assignee_id=agent_user.id)
    await tickets.transition(agent, t1.id, TicketStatus.IN_PROGRESS)
    await tickets.add_comment(
        agent, t1.id, body="Looking into it: is the display showing E-42 still?"
    )
    await tickets.assign(agent, t3.id, assignee_id=agent_user.id)
    return {"users": len(users), "teams": len(teams), "tickets": 3}


def _actor(user: User) -> Actor:
    return actor_for(user, [])

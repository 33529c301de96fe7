from sets.repositories.tickets import TicketQuery
from sets.services.container import Services
from sets.services.demo import load_demo
from tests.helpers import actor_of


async def test_demo_loads_and_requester_sees_only_own_tickets(services: Services) -> None:
    await load_demo(services)
    rita = await actor_of(services, "requester@example.com")
    page = await services.reads.tickets(rita, TicketQuery(), first=10, after=None)
    assert {t.requester_id for t in page.items} == {rita.user_id}
    assert await services.reads.count_tickets(rita, TicketQuery()) == 2

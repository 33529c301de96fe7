"""Full-text ticket search on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

Every test runs on both databases with the same literal expectations, so passing on both
is the proof that they return the same tickets in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from sets.domain.actor import Actor
from sets.domain.clock import FixedClock
from sets.domain.enums import TicketStatus
from sets.models import Comment, Ticket
from sets.repositories.tickets import RELEVANCE, TicketQuery
from tests.integration.support import Demo

# The demo data: 1 "Printer on floor 2 is offline" (Rita, in progress, a public reply
# mentioning E-42), 2 "Card terminal declines every payment" (Carl), 3 "VPN keeps
# disconnecting" (Rita). The corpus below adds printer hits in each field.


@dataclass
class Corpus:
    demo: Demo
    ids: dict[str, int]

    def __getitem__(self, name: str) -> int:
        return self.ids[name]

    async def search(
        self, actor: Actor, words: str, *, first: int = 50, **filters: Any
    ) -> list[int]:
        query = TicketQuery(search=words, order_field=RELEVANCE, **filters)
        page, _ = await self.demo.services.search.ranked(actor, query, first=first, after=None)
        return [t.id for t in page.items]


@pytest.fixture
async def corpus(demo: Demo, clock: FixedClock) -> Corpus:
    tickets = demo.services.tickets
    clock.advance(timedelta(minutes=5))
    scanner = await tickets.create(
        demo.rita, title="Scanner jammed", description="Paper is stuck in the PRINTER tray."
    )
    clock.advance(timedelta(minutes=5))
    monitor = await tickets.create(
        demo.carl, title="Monitor flickers", description="Flicker after the update."
    )
    await tickets.add_comment(demo.agent, monitor.id, body="Maybe the printer driver broke it?")
    clock.advance(timedelta(minutes=5))
    keyboard = await tickets.create(
        demo.rita, title="Keyboard missing keys", description="Several keys fell off."
    )
    await tickets.add_comment(
        demo.agent, keyboard.id, body="Printer-related? Zebra vendor contract.", internal=True
    )
    return Corpus(demo, {"scanner": scanner.id, "monitor": monitor.id, "keyboard": keyboard.id})


async def test_title_hit_ranks_above_description_above_comment(corpus: Corpus) -> None:
    demo = corpus.demo
    found = await corpus.search(demo.admin, "printer")
    # title (1) > description (scanner) > comments, newest first on a tie
    assert found == [1, corpus["scanner"], corpus["keyboard"], corpus["monitor"]]
    query = TicketQuery(search="printer", order_field=RELEVANCE)
    _, scores = await demo.services.search.ranked(demo.admin, query, first=10, after=None)
    assert scores == [3, 2, 1, 1]


async def test_requesters_find_only_their_tickets_and_never_internal_notes(
    corpus: Corpus,
) -> None:
    demo = corpus.demo
    assert await corpus.search(demo.rita, "printer") == [1, corpus["scanner"]]
    assert await corpus.search(demo.carl, "printer") == [corpus["monitor"]]
    # "zebra" is only in an internal note of Rita's own ticket
    assert await corpus.search(demo.rita, "zebra") == []
    assert await corpus.search(demo.agent, "zebra") == [corpus["keyboard"]]
    assert await corpus.search(demo.admin, "zebra vendor") == [corpus["keyboard"]]
    # a third-party agent sees only tickets routed to the vendor team
    assert await corpus.search(demo.vendor, "printer") == []


async def test_every_word_must_match_somewhere_readable(corpus: Corpus) -> None:
    demo = corpus.demo
    # "offline" in the title, "display" in the public reply of ticket 1
    assert await corpus.search(demo.rita, "offline display") == [1]
    assert await corpus.search(demo.admin, "printer zebra") == [corpus["keyboard"]]
    assert await corpus.search(demo.rita, "printer zebra") == []
    assert await corpus.search(demo.admin, "printer nonexistentword") == []


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("print", [1, "scanner", "keyboard", "monitor"]),  # prefix of printer
        ("PRINTERS", []),  # no stemming: a longer word is not a prefix
        ("E-42", [1]),  # "e" and "42" as whole words
        ("e-4", []),  # numbers and short words are whole words only
        ("flicker", ["monitor"]),  # "flickers" (title) and "flicker" (description)
        ("vpn disconnect", [3]),
        ("declines cards", [2]),
        ("stuck tray", ["scanner"]),
        ("clinic's terminal", [2]),  # "clinic", "s" and "terminal"
        ("   ", None),  # no search at all
        ("???", []),  # no words: nothing matches
    ],
)
async def test_words_match_alike_on_both_databases(
    corpus: Corpus, words: str, expected: list[Any] | None
) -> None:
    demo = corpus.demo
    if expected is None:
        page = await demo.services.reads.tickets(
            demo.admin, TicketQuery(search=None), first=50, after=None
        )
        assert len(page.items) == 6
        return
    want = [corpus[x] if isinstance(x, str) else x for x in expected]
    assert await corpus.search(demo.admin, words) == want


async def test_non_ascii_words(demo: Demo) -> None:
    t = await demo.services.tickets.create(
        demo.rita, title="Drucker von Frau Müller", description="Kein Papier in der Straße 5."
    )
    for words in ("müller", "MÜLLER", "straße", "drucker müll"):
        assert await Corpus(demo, {}).search(demo.admin, words) == [t.id], words
    assert await Corpus(demo, {}).search(demo.admin, "muller") == []  # accents are kept


async def test_key_and_number_search(corpus: Corpus) -> None:
    demo = corpus.demo
    assert await corpus.search(demo.carl, "SETS-2") == [2]
    assert await corpus.search(demo.carl, "sets-2") == [2]
    assert await corpus.search(demo.rita, "SETS-2") == []  # not hers: not found
    assert await corpus.search(demo.admin, "SETS-999") == []
    # A bare number: that ticket first, then tickets with the word "2" (floor 2)
    assert await corpus.search(demo.admin, "2") == [2, 1]
    assert await corpus.search(demo.admin, "#3") == [3]
    assert await corpus.search(demo.rita, "2") == [1]


async def test_search_combines_with_every_filter(corpus: Corpus, clock: FixedClock) -> None:
    demo = corpus.demo
    s = demo.services
    scanner, monitor, keyboard = corpus["scanner"], corpus["monitor"], corpus["keyboard"]
    everyone = [1, scanner, keyboard, monitor]
    assert await corpus.search(demo.admin, "printer", statuses=[TicketStatus.IN_PROGRESS]) == [1]
    assert await corpus.search(demo.admin, "printer", open=True) == everyone
    assert await corpus.search(demo.admin, "printer", requester_ids=[demo.carl.user_id]) == [
        monitor
    ]
    assert await corpus.search(demo.admin, "printer", assignee_ids=[demo.agent.user_id]) == [1]
    assert await corpus.search(demo.admin, "printer", unassigned=True) == [
        scanner,
        keyboard,
        monitor,
    ]
    general = demo.categories["General"]
    assert await corpus.search(demo.admin, "printer", category_ids=[general]) == everyone
    assert await corpus.search(demo.admin, "printer", team_ids=[demo.desk]) == everyone
    t0 = (await demo.ticket(1)).created_at
    assert await corpus.search(demo.admin, "printer", created_after=t0 + timedelta(minutes=6)) == [
        keyboard,
        monitor,
    ]
    assert await corpus.search(demo.admin, "printer", created_before=t0 + timedelta(minutes=6)) == [
        1,
        scanner,
    ]

    # escalated
    await s.tickets.escalate(demo.admin, scanner, reason="customer is a VIP")
    assert await corpus.search(demo.admin, "printer", escalated=True) == [scanner]
    assert await corpus.search(demo.admin, "printer", escalated=False) == [1, keyboard, monitor]

    # breached (the flags the SLA sweep sets)
    async with s.db.writer() as session:
        await session.execute(
            update(Ticket).where(Ticket.id == keyboard).values(first_response_breached=True)
        )
        await session.execute(update(Ticket).where(Ticket.id == 1).values(resolution_breached=True))
        await session.commit()
    assert await corpus.search(demo.admin, "printer", breached=True) == [1, keyboard]
    assert await corpus.search(demo.admin, "printer", breached=False) == [scanner, monitor]

    # updated and resolved ranges
    clock.advance(timedelta(hours=1))
    marker = clock.now()
    await s.tickets.transition(
        demo.agent, 1, TicketStatus.RESOLVED, resolution="Replaced the fuser."
    )
    assert await corpus.search(demo.admin, "printer", updated_after=marker) == [1]
    assert await corpus.search(demo.admin, "printer", updated_before=marker) == [
        scanner,
        keyboard,
        monitor,
    ]
    assert await corpus.search(demo.admin, "printer", resolved_after=marker) == [1]
    assert await corpus.search(demo.admin, "printer", resolved_before=marker) == []


async def test_explicit_order_overrides_relevance(corpus: Corpus) -> None:
    demo = corpus.demo
    query = TicketQuery(search="printer", order_field="CREATED_AT", descending=False)
    page = await demo.services.reads.tickets(demo.admin, query, first=10, after=None)
    assert [t.id for t in page.items] == [
        1,
        corpus["scanner"],
        corpus["monitor"],
        corpus["keyboard"],
    ]
    assert await demo.services.reads.count_tickets(demo.rita, query) == 2


async def test_relevance_pages_follow_a_stable_keyset(demo: Demo, clock: FixedClock) -> None:
    s = demo.services
    made = []
    for n, (title, description) in enumerate(
        [
            ("Widget broken", "x"),
            ("Gadget", "the widget is loose"),
            ("Widget widget", "widget"),
            ("Gizmo", "nothing"),
            ("Thing", "widget again"),
            ("Widget noise", "y"),
            ("Other", "z"),
        ]
    ):
        clock.advance(timedelta(minutes=1))
        t = await s.tickets.create(demo.rita, title=title, description=f"{description} {n}")
        made.append(t.id)
    await s.tickets.add_comment(demo.agent, made[3], body="The widget spring")
    query = TicketQuery(search="widget", order_field=RELEVANCE)
    whole, scores = await s.search.ranked(demo.admin, query, first=50, after=None)
    expected = [made[5], made[2], made[0], made[4], made[1], made[3]]
    assert [t.id for t in whole.items] == expected
    assert scores == [3, 3, 3, 2, 2, 1]
    assert whole.total == 6

    seen: list[int] = []
    after = None
    for _ in range(10):
        page, keys = await s.search.ranked(demo.admin, query, first=2, after=after)
        seen += [t.id for t in page.items]
        # A ticket created meanwhile that would rank first must not shift the pages.
        if len(seen) == 2:
            await s.tickets.create(demo.rita, title="Widget", description="new")
        if not page.has_next:
            break
        after = (str(keys[-1]), page.items[-1].id)
    assert seen == expected


async def test_index_follows_edits_and_deleted_comments(corpus: Corpus) -> None:
    demo = corpus.demo
    s = demo.services
    await s.tickets.update(demo.rita, corpus["scanner"], title="Copier jammed")
    assert await corpus.search(demo.admin, "scanner") == []
    assert await corpus.search(demo.admin, "copier") == [corpus["scanner"]]
    # Comments are never deleted through the services yet; the trigger still handles it.
    async with s.db.writer() as session:
        await session.execute(
            update(Comment)
            .where(Comment.ticket_id == corpus["monitor"])
            .values(deleted_at=s.clock.now())
        )
        await session.commit()
    assert corpus["monitor"] not in await corpus.search(demo.admin, "printer")
    await s.tickets.add_comment(demo.carl, corpus["monitor"], body="Still flickering, printer OK")
    assert corpus["monitor"] in await corpus.search(demo.carl, "printer")


async def test_requester_cannot_widen_their_scope(corpus: Corpus) -> None:
    demo = corpus.demo
    query = TicketQuery(search="printer", order_field=RELEVANCE)
    for filters in ({"requester_ids": [demo.carl.user_id]}, {"ids": [corpus["monitor"]]}):
        page, _ = await demo.services.search.ranked(
            demo.rita, replace(query, **filters), first=10, after=None
        )
        assert page.items == []

"""Knowledge capture (issue 7) on both databases."""

from __future__ import annotations

from sets.domain.errors import ErrorCode
from tests.integration.collab_support import in_progress, resolved, snapshot
from tests.integration.support import Demo, raises_domain


async def test_capture_publish_and_search(demo: Demo) -> None:
    knowledge = demo.services.knowledge
    tid = await resolved(demo, "Printer shows error 50.4")
    article = await knowledge.capture(demo.agent, tid)
    ticket = await demo.ticket(tid)
    assert (article.title, article.body) == (ticket.title, "Cleared the jam.")
    assert (article.source_ticket_id, article.category_id) == (tid, ticket.category_id)
    assert article.published and article.author_id == demo.agent.user_id
    draft = await knowledge.capture(
        demo.manager, tid, title="Fuser replacement", body="Order part F-50_4%.", publish=False
    )
    assert (await demo.kinds(tid))[-2:] == ["KNOWLEDGE_CAPTURED", "KNOWLEDGE_CAPTURED"]

    # Staff see drafts; requesters published articles only.
    assert {a.id for a in await knowledge.search(demo.agent, None)} >= {article.id, draft.id}
    assert [a.id for a in await knowledge.search(demo.rita, None)] == [article.id]
    assert [a.id for a in await knowledge.search(demo.carl, "error 50")] == [article.id]
    assert [a.id for a in await knowledge.search(demo.agent, "FUSER part")] == [draft.id]
    assert await knowledge.search(demo.agent, "fuser toner") == []
    # LIKE wildcards are literal.
    assert [a.id for a in await knowledge.search(demo.agent, "50_4")] == [draft.id]
    assert await knowledge.search(demo.agent, "f_50") == []  # "_" would match the "-"

    await knowledge.set_published(demo.manager, draft.id, published=True)
    assert {a.id for a in await knowledge.search(demo.rita, None)} == {article.id, draft.id}


async def test_capture_refusals_change_nothing(demo: Demo) -> None:
    knowledge = demo.services.knowledge
    open_ticket = await in_progress(demo)
    done = await resolved(demo, "Done")
    article = await knowledge.capture(demo.agent, done)
    before = await snapshot(demo)
    cases = [
        (ErrorCode.INVALID_TRANSITION, "ticketId", knowledge.capture(demo.agent, open_ticket)),
        (ErrorCode.FORBIDDEN, "ticketId", knowledge.capture(demo.rita, done)),
        (ErrorCode.FORBIDDEN, "ticketId", knowledge.capture(demo.senior, done)),
        (ErrorCode.NOT_FOUND, "ticketId", knowledge.capture(demo.carl, done)),
        (ErrorCode.VALIDATION, "title", knowledge.capture(demo.agent, done, title=" ")),
        (ErrorCode.NOT_FOUND, "categoryId", knowledge.capture(demo.agent, done, category_id=999)),
        (
            ErrorCode.FORBIDDEN,
            None,
            knowledge.set_published(demo.rita, article.id, published=False),
        ),
        (
            ErrorCode.VALIDATION,
            "articleId",
            knowledge.set_published(demo.agent, article.id, published=True),
        ),
        (
            ErrorCode.NOT_FOUND,
            "articleId",
            knowledge.set_published(demo.agent, 999, published=True),
        ),
    ]
    for code, field, call in cases:
        with raises_domain(code, field):
            await call
    assert await snapshot(demo) == before

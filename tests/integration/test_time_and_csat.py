"""Time tracking and CSAT (issue 7) on both databases."""

from __future__ import annotations

from datetime import timedelta

from sets.domain.clock import FixedClock
from sets.domain.enums import TicketStatus
from sets.domain.errors import ErrorCode
from tests.integration.collab_support import in_progress, resolved, snapshot
from tests.integration.support import Demo, raises_domain


async def test_one_running_timer_per_person(demo: Demo, clock: FixedClock) -> None:
    time, reads = demo.services.time, demo.services.collaboration
    a, b = await in_progress(demo, "A"), await in_progress(demo, "B")
    first = await time.start_timer(demo.agent, a)
    assert first.running and first.minutes is None
    clock.advance(timedelta(minutes=12, seconds=5))
    second = await time.start_timer(demo.agent, b)  # stops the first: 13 begun minutes
    entries = (await reads.time_entries(demo.agent, [a]))[a]
    assert [(e.running, e.minutes) for e in entries] == [(False, 13)]
    assert (await reads.running_timer(demo.agent)).id == second.id
    # Someone else's timer is theirs: the manager's runs alongside.
    await time.start_timer(demo.manager, b)
    clock.advance(timedelta(minutes=30))
    stopped = await time.stop_timer(demo.agent)
    assert (stopped.id, stopped.minutes, stopped.running) == (second.id, 30, False)
    assert await reads.running_timer(demo.agent) is None
    assert (await reads.minutes(demo.agent, [a, b])) == {a: 13, b: 30}  # running ones: 0
    assert [e.kind for e in await demo.events(a)][-2:] == ["TIMER_STARTED", "TIMER_STOPPED"]
    assert (await reads.minutes(demo.rita, [a])) == {a: None}
    assert (await reads.time_entries(demo.rita, [a]))[a] == []


async def test_log_edit_and_delete_own_entries(demo: Demo, clock: FixedClock) -> None:
    time, reads = demo.services.time, demo.services.collaboration
    tid = await in_progress(demo)
    spent = clock.now() - timedelta(hours=3)
    entry = await time.log(demo.agent, tid, minutes=45, note="Replaced the fuser", spent_at=spent)
    assert (entry.minutes, entry.spent_at, entry.note) == (45, spent, "Replaced the fuser")
    await time.log(demo.manager, tid, minutes=15)
    assert (await reads.minutes(demo.agent, [tid]))[tid] == 60
    edited = await time.update(demo.agent, entry.id, minutes=50, note="Fuser and roller")
    assert (edited.minutes, edited.note) == (50, "Fuser and roller")
    await time.delete(demo.agent, entry.id)
    assert (await reads.minutes(demo.agent, [tid]))[tid] == 15
    kinds = await demo.kinds(tid)
    assert kinds[-3:] == ["TIME_LOGGED", "TIME_ENTRY_UPDATED", "TIME_ENTRY_DELETED"]
    events = await demo.events(tid)
    assert all(e.internal for e in events[-4:])
    assert events[-1].data == {"entryId": entry.id, "minutes": 50}


async def test_time_refusals_change_nothing(demo: Demo, clock: FixedClock) -> None:
    time = demo.services.time
    tid = await in_progress(demo)
    mine = await time.log(demo.agent, tid, minutes=10)
    running = await time.start_timer(demo.agent, tid)
    before = await snapshot(demo)
    cases = [
        (ErrorCode.VALIDATION, "minutes", time.log(demo.agent, tid, minutes=0)),
        (ErrorCode.VALIDATION, "minutes", time.log(demo.agent, tid, minutes=24 * 60 + 1)),
        (
            ErrorCode.VALIDATION,
            "spentAt",
            time.log(demo.agent, tid, minutes=5, spent_at=clock.now() + timedelta(hours=1)),
        ),
        (ErrorCode.FORBIDDEN, "ticketId", time.log(demo.rita, tid, minutes=5)),
        (ErrorCode.FORBIDDEN, "ticketId", time.log(demo.senior, tid, minutes=5)),
        (ErrorCode.NOT_FOUND, "ticketId", time.log(demo.agent, 99999, minutes=5)),
        (ErrorCode.CONFLICT, "ticketId", time.start_timer(demo.agent, tid)),
        (ErrorCode.NOT_FOUND, None, time.stop_timer(demo.manager)),
        # Someone else's entry: not theirs to edit or delete.
        (ErrorCode.NOT_FOUND, "entryId", time.update(demo.manager, mine.id, minutes=20)),
        (ErrorCode.NOT_FOUND, "entryId", time.delete(demo.manager, mine.id)),
        (ErrorCode.VALIDATION, "entryId", time.update(demo.agent, running.id, minutes=20)),
        (ErrorCode.VALIDATION, "entryId", time.update(demo.agent, mine.id, minutes=10)),
    ]
    for code, field, call in cases:
        with raises_domain(code, field):
            await call
    assert await snapshot(demo) == before


async def test_requester_rates_a_resolved_ticket_once(demo: Demo) -> None:
    csat, reads = demo.services.csat, demo.services.collaboration
    tid = await resolved(demo)
    rating = await csat.rate(demo.rita, tid, score=4, comment="Quick, thanks")
    assert (rating.score, rating.comment, rating.rater_id) == (
        4,
        "Quick, thanks",
        demo.rita.user_id,
    )
    assert (await reads.ratings(demo.agent, [tid]))[tid].id == rating.id
    assert (await reads.ratings(demo.rita, [tid]))[tid].id == rating.id
    last = (await demo.events(tid, demo.rita))[-1]
    assert last.kind == "RATED" and last.data["score"] == 4

    before = await snapshot(demo)
    with raises_domain(ErrorCode.CONFLICT, "ticketId"):
        await csat.rate(demo.rita, tid, score=5)
    assert await snapshot(demo) == before

    # Closed tickets can be rated too.
    other = await resolved(demo, "Second")
    await demo.services.tickets.transition(demo.rita, other, TicketStatus.CLOSED)
    assert (await csat.rate(demo.rita, other, score=2)).score == 2


async def test_rating_refusals_change_nothing(demo: Demo) -> None:
    csat = demo.services.csat
    open_ticket = await in_progress(demo)
    done = await resolved(demo, "Done")
    before = await snapshot(demo)
    cases = [
        (ErrorCode.VALIDATION, "score", csat.rate(demo.rita, done, score=0)),
        (ErrorCode.VALIDATION, "score", csat.rate(demo.rita, done, score=6)),
        (ErrorCode.VALIDATION, "comment", csat.rate(demo.rita, done, score=3, comment="x" * 2001)),
        (ErrorCode.INVALID_TRANSITION, "ticketId", csat.rate(demo.rita, open_ticket, score=3)),
        (ErrorCode.FORBIDDEN, "ticketId", csat.rate(demo.agent, done, score=5)),
        (ErrorCode.NOT_FOUND, "ticketId", csat.rate(demo.carl, done, score=1)),
    ]
    for code, field, call in cases:
        with raises_domain(code, field):
            await call
    assert await snapshot(demo) == before

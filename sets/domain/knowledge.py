"""Knowledge capture (issue 7): a resolved ticket's resolution becomes an article."""

from __future__ import annotations

import re

from sets.domain import validation
from sets.domain.actor import Actor
from sets.domain.enums import TicketStatus
from sets.domain.errors import InvalidTransition
from sets.domain.tickets import TicketFacts

TITLE_MAX = 200
BODY_MAX = 50_000
SEARCH_MAX = 200
MAX_RESULTS = 50
_WORD = re.compile(r"\w+")


def check_capturable(ticket: TicketFacts, resolution: str | None) -> None:
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED) or not resolution:
        raise InvalidTransition(
            "only a resolved ticket's resolution can become an article", field="ticketId"
        )


def title(value: str | None) -> str:
    return validation.text(value, field="title", max_len=TITLE_MAX)


def body(value: str | None) -> str:
    return validation.text(value, field="body", max_len=BODY_MAX)


def search_words(value: str | None) -> list[str]:
    """Words to find (each must occur); at most 10, so a query stays cheap."""
    text = validation.optional_text(value, field="search", max_len=SEARCH_MAX) or ""
    return _WORD.findall(text.lower())[:10]


def published_only(actor: Actor) -> bool:
    """Requesters read published articles only; staff also see drafts."""
    return not actor.is_staff

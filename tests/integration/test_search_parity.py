"""Both databases against one reference: a generated corpus, many queries, and a plain Python
model of the documented matching and ranking (sets.domain.search). Equal to the model on
SQLite and on PostgreSQL means equal to each other."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from sets.domain.actor import Actor
from sets.domain.search import matches_prefix, parse_search
from sets.repositories.tickets import RELEVANCE, TicketQuery
from tests.integration.support import Demo

# Words with case, punctuation, digits and accents: what a tokenizer can get wrong.
VOCABULARY = tuple(
    "printer Printers print toner tray Paper jam e-42 E42 42 420 vpn VPN-Gateway wifi "  # noqa: SIM905
    "o'neil rita@example.com Müller straße über 2nd 10x café v2.0 re-boot reboot boot "
    "screen screens flicker monitor laptop battery swelling queue_length alpha ALPHA beta".split()
)


def tokens(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[^\W_]+", text)]


@dataclass
class Model:
    """One ticket as the reference sees it."""

    id: int
    requester: int
    title: list[str]
    description: list[str]
    public: list[str] = field(default_factory=list)
    internal: list[str] = field(default_factory=list)


def hit(word: str, words: list[str]) -> bool:
    return any(w == word or (matches_prefix(word) and w.startswith(word)) for w in words)


def expected(models: list[Model], actor: Actor, text: str) -> list[int]:
    terms = parse_search(text)
    scored = []
    for m in models:
        if not actor.is_staff and m.requester != actor.user_id:
            continue
        readable = m.title + m.description + m.public + (m.internal if actor.is_staff else [])
        by_text = bool(terms.words) and all(hit(w, readable) for w in terms.words)
        by_id = terms.ticket_id == m.id
        if not (by_id or (by_text and not terms.only_id)):
            continue
        score = 100 if by_id else 0
        for w in terms.words:
            score += 3 if hit(w, m.title) else 2 if hit(w, m.description) else 1
        scored.append((score, m.id))
    return [tid for _, tid in sorted(scored, reverse=True)]


def phrase(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(n)) + rng.choice(["", ".", "!", "?"])


async def test_search_matches_the_reference_model(demo: Demo) -> None:
    rng = random.Random(20260105)
    s = demo.services
    models: list[Model] = []
    for _ in range(40):
        requester = rng.choice([demo.rita, demo.carl])
        title, description = phrase(rng, rng.randint(1, 4)), phrase(rng, rng.randint(1, 8))
        ticket = await s.tickets.create(requester, title=title, description=description)
        model = Model(ticket.id, ticket.requester_id, tokens(title), tokens(description))
        for _ in range(rng.randint(0, 3)):
            body, internal = phrase(rng, rng.randint(1, 5)), rng.random() < 0.4
            await s.tickets.add_comment(demo.agent, ticket.id, body=body, internal=internal)
            (model.internal if internal else model.public).append(body)
        model.public = [w for b in model.public for w in tokens(b)]
        model.internal = [w for b in model.internal for w in tokens(b)]
        models.append(model)
    # The demo's own three tickets stay out of the reference: restrict to the corpus.
    corpus_ids = [m.id for m in models]
    queries = [phrase(rng, rng.randint(1, 3)).rstrip(".!?") for _ in range(40)]
    queries += ["pri", "scre", "e", "42", "4", f"SETS-{corpus_ids[3]}", str(corpus_ids[5])]
    mismatches = []
    for actor in (demo.admin, demo.rita, demo.carl):
        for text in queries:
            query = TicketQuery(search=text, order_field=RELEVANCE, ids=corpus_ids)
            page, _ = await s.search.ranked(actor, query, first=100, after=None)
            got, want = [t.id for t in page.items], expected(models, actor, text)
            if got != want:
                mismatches.append((actor.role.value, text, got, want))
    assert mismatches == []

"""What a search box holds (SPEC §9): a ticket key or number, and words.

Both databases index text the same way: a word is a run of letters and digits, compared
case-insensitively; anything else separates words. So "E-42" is the two words "e" and "42",
on SQLite (FTS5, unicode61) and on PostgreSQL (the text is reduced to such runs before
`to_tsvector('simple', …)`). Every query word must occur somewhere the caller may read:
the title, the description, a public comment, or, for staff, an internal note. Words of
three or more characters match as the start of a word too ("print" finds "printers");
numbers and shorter words match whole words only (so "E-42" does not find "E-420" or every
word starting with "e"). There is no stemming: both databases would stem differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from sets.domain.tickets import parse_ticket_key

MAX_WORDS = 8
MAX_ID = 2**31 - 1
# Longer words are cut: a prefix match on the first 64 characters still finds them.
MAX_WORD_LENGTH = 64
# Each field (title, description, all public comments, all internal notes) is indexed up
# to this many characters, on both databases alike (the migration repeats the number).
INDEXED_CHARS = 200_000

# Relevance: per query word, where it occurs at best. A title hit outranks a description
# hit, which outranks a comment hit; the exact ticket number outranks any text.
TITLE_WEIGHT = 3
DESCRIPTION_WEIGHT = 2
COMMENT_WEIGHT = 1
ID_WEIGHT = 100


@dataclass(frozen=True, slots=True)
class SearchTerms:
    ticket_id: int | None = None
    words: tuple[str, ...] = ()

    @property
    def only_id(self) -> bool:
        """A key ("SETS-42") names one ticket; its words are not searched."""
        return self.ticket_id is not None and not self.words

    @property
    def empty(self) -> bool:
        return self.ticket_id is None and not self.words


PREFIX_MIN = 3


def matches_prefix(word: str) -> bool:
    """Whether a query word also matches longer words that start with it."""
    return len(word) >= PREFIX_MIN and not word.isdigit()


def words_of(text: str) -> tuple[str, ...]:
    """The distinct lower-cased words of `text`, in order, at most MAX_WORDS of them."""
    found: list[str] = []
    current: list[str] = []
    for char in f"{text} ":
        if char.isalnum():
            current.append(char)
            continue
        if current:
            word = "".join(current).lower()[:MAX_WORD_LENGTH]
            if word not in found:
                found.append(word)
            current = []
        if len(found) == MAX_WORDS:
            break
    return tuple(found)


def parse_search(text: str) -> SearchTerms:
    """ "SETS-42" finds that ticket only; "42" or "#42" finds ticket 42 first, then tickets
    containing the word "42"; anything else is words."""
    stripped = text.strip()
    key = parse_ticket_key(stripped)
    if key is not None:
        # Ids are 32-bit integers: a larger key names no ticket (and matches nothing).
        return SearchTerms(ticket_id=key) if key <= MAX_ID else SearchTerms()
    number = stripped.removeprefix("#")
    if number.isascii() and number.isdigit() and 0 < int(number) <= MAX_ID:
        return SearchTerms(ticket_id=int(number), words=words_of(number))
    return SearchTerms(words=words_of(stripped))

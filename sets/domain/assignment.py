"""Skill-based auto-assignment (SPEC §9, §16 "fair assignment in the core").

A new ticket in a queue with auto-assignment goes to the team member who has the required
skill and the fewest open tickets; a tie goes round-robin: to the first tied member whose id
follows the one picked last in that team, wrapping around. Ids, not list positions, carry the
cursor, so it survives members joining or leaving between two picks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sets.domain.enums import EventKind, Role
from sets.domain.errors import ValidationFailed

SKILL_MAX = 40
SKILLS_PER_USER_MAX = 30
_SKILL = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SEPARATORS = re.compile(r"[\s_]+")

# Who works a queue (SPEC §1): agents and managers (senior agents, team leads). Admins manage
# the system and take escalations; requesters never work tickets.
ASSIGNABLE_ROLES = frozenset({Role.AGENT, Role.MANAGER})

AUTO_ASSIGN_SKIPPED = EventKind.AUTO_ASSIGN_SKIPPED


def skill(raw: str, *, field: str = "skills") -> str:
    """A skill as stored: a lowercase slug (`Network Printers` -> `network-printers`)."""
    value = _SEPARATORS.sub("-", raw.strip().lower())
    if not value:
        raise ValidationFailed("a skill cannot be empty", field=field)
    if len(value) > SKILL_MAX:
        raise ValidationFailed(f"a skill has at most {SKILL_MAX} characters", field=field)
    if not _SKILL.fullmatch(value):
        raise ValidationFailed(
            f"{raw!r} is not a valid skill: use letters, digits and single hyphens",
            field=field,
        )
    return value


def skills(raw: Iterable[str], *, field: str = "skills") -> list[str]:
    """A user's skill set, normalised, without duplicates, sorted."""
    found = sorted({skill(s, field=field) for s in raw})
    if len(found) > SKILLS_PER_USER_MAX:
        raise ValidationFailed(f"a user has at most {SKILLS_PER_USER_MAX} skills", field=field)
    return found


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the choice needs to know of one person."""

    user_id: int
    active: bool
    role: Role
    in_team: bool
    skills: frozenset[str]
    open_tickets: int


@dataclass(frozen=True, slots=True)
class Choice:
    """The person picked (None: nobody qualified) and why, in words for the audit trail."""

    user_id: int | None
    reason: str
    qualified: int = 0
    tied: int = 0


def qualifies(candidate: Candidate, required_skill: str | None) -> bool:
    return (
        candidate.active
        and candidate.in_team
        and candidate.role in ASSIGNABLE_ROLES
        and (required_skill is None or required_skill in candidate.skills)
    )


def choose_assignee(
    candidates: Sequence[Candidate], *, required_skill: str | None, last_user_id: int | None
) -> Choice:
    """The qualified candidate with the fewest open tickets; ties round-robin after
    `last_user_id` (the team's previous pick) in id order, wrapping around."""
    wanted = f"skill {required_skill!r}" if required_skill else "any skill"
    qualified = [c for c in candidates if qualifies(c, required_skill)]
    if not qualified:
        if required_skill is None:
            return Choice(None, "no active agent or manager in the team")
        return Choice(
            None, f"no active agent or manager in the team has the skill {required_skill!r}"
        )
    fewest = min(c.open_tickets for c in qualified)
    tied = sorted(c.user_id for c in qualified if c.open_tickets == fewest)
    after = [uid for uid in tied if last_user_id is not None and uid > last_user_id]
    picked = after[0] if after else tied[0]
    reason = (
        f"{wanted}; fewest open tickets ({fewest}) of {len(qualified)} qualified "
        f"member{'s' if len(qualified) != 1 else ''}"
    )
    if len(tied) > 1:
        reason += f"; a tie of {len(tied)} broken round-robin"
    return Choice(picked, reason, qualified=len(qualified), tied=len(tied))

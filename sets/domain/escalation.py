"""Escalation levels (SPEC §5): when each level is reached and what it does."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_LEVEL = 3


class EscalationAction(StrEnum):
    NOTIFY_ASSIGNEE = "NOTIFY_ASSIGNEE"
    NOTIFY_TEAM_MANAGERS = "NOTIFY_TEAM_MANAGERS"
    ROUTE_TO_TIER2 = "ROUTE_TO_TIER2"
    NOTIFY_ADMINS = "NOTIFY_ADMINS"
    ROUTE_TO_EXTERNAL = "ROUTE_TO_EXTERNAL"


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """Level `level` is reached `after_breach_percent` % of the resolution target after the
    resolution breach (0 = at the breach)."""

    level: int
    after_breach_percent: int
    actions: frozenset[EscalationAction]
    target_team_id: int | None = None


A = EscalationAction
DEFAULT_STEPS: tuple[EscalationStep, ...] = (
    EscalationStep(1, 0, frozenset({A.NOTIFY_ASSIGNEE, A.NOTIFY_TEAM_MANAGERS})),
    EscalationStep(2, 50, frozenset({A.ROUTE_TO_TIER2, A.NOTIFY_TEAM_MANAGERS})),
    EscalationStep(3, 100, frozenset({A.NOTIFY_ADMINS, A.ROUTE_TO_EXTERNAL})),
)


def parse_actions(raw: str) -> frozenset[EscalationAction]:
    return frozenset(EscalationAction(a) for a in raw.split(",") if a)


def format_actions(actions: frozenset[EscalationAction]) -> str:
    return ",".join(sorted(a.value for a in actions))

"""Priority on creation (SPEC §3): first matching rule by position, then fallbacks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sets.domain.enums import Priority, Urgency


@dataclass(frozen=True, slots=True)
class PriorityRuleSpec:
    id: int
    position: int
    priority: Priority
    category_id: int | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PriorityChoice:
    priority: Priority
    source: str  # "rule", "category", "urgency" or "default"
    rule_id: int | None = None


def _mentions(text: str, keyword: str) -> bool:
    pattern = r"(?<!\w)" + re.escape(keyword.strip().lower()) + r"(?!\w)"
    return re.search(pattern, text) is not None


def rule_matches(rule: PriorityRuleSpec, *, category_id: int | None, text: str) -> bool:
    if rule.category_id is not None and rule.category_id != category_id:
        return False
    keywords = [k for k in rule.keywords if k.strip()]
    return not keywords or any(_mentions(text, k) for k in keywords)


def choose_priority(
    rules: Iterable[PriorityRuleSpec],
    *,
    category_id: int | None,
    title: str,
    description: str,
    category_default: Priority | None,
    urgency: Urgency | None,
) -> PriorityChoice:
    text = f"{title}\n{description}".lower()
    ordered: Sequence[PriorityRuleSpec] = sorted(rules, key=lambda r: (r.position, r.id))
    for rule in ordered:
        if rule_matches(rule, category_id=category_id, text=text):
            return PriorityChoice(rule.priority, "rule", rule.id)
    if category_default is not None:
        return PriorityChoice(category_default, "category")
    if urgency is not None:
        return PriorityChoice(urgency.priority, "urgency")
    return PriorityChoice(Priority.P3, "default")


def parse_keywords(raw: str | Iterable[str]) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(dict.fromkeys(k.strip().lower() for k in items if k.strip()))

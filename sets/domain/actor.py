from __future__ import annotations

from dataclasses import dataclass, field

from sets.domain.enums import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a user with their role and team memberships, or the system."""

    user_id: int | None
    role: Role
    team_ids: frozenset[int] = field(default_factory=frozenset)
    external_team_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, role=Role.ADMIN)

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_external_only(self) -> bool:
        """Members of third-party teams only, who see just what is routed to them."""
        return bool(self.team_ids) and self.team_ids == self.external_team_ids

"""Who is calling: the owner name of the API key that authenticated the request."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from imagegen.domain.limits import ClientLimits

DEFAULT_OWNER = "default"


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)

    owner: str = DEFAULT_OWNER
    is_admin: bool = False
    limits: ClientLimits = ClientLimits()

    def can_see(self, owner: str) -> bool:
        return self.is_admin or owner == self.owner

    @property
    def scope(self) -> str | None:
        """The owner to filter by; None (everything) for admin keys."""
        return None if self.is_admin else self.owner

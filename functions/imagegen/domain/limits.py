"""Fair use per client: how many jobs it may have in flight, how many images it may start per UTC day,
and (optionally) how much estimated cost it may run up per UTC day.

Limits belong to the key a request authenticated with; every key gets the defaults unless the operator
set its own (`CLIENT_LIMITS`). Stores check and count in one atomic step with the jobs they create, so
two calls can never both take the last slot. A job counts toward the day it was accepted, whatever
became of it: the provider was (or would have been) asked for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imagegen.domain.errors import ImagegenError

EVERYONE = "*"  # the key in CLIENT_LIMITS whose limits apply to every key without its own


class ClientLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    jobs_in_flight: int | None = Field(default=20, ge=1, description="Pending and processing jobs at once.")
    images_per_day: int | None = Field(default=1000, ge=1, description="Jobs accepted per UTC day.")
    daily_spend_usd: float | None = Field(
        default=2.0, gt=0, allow_inf_nan=False, description="Estimated cost accepted per UTC day."
    )


UNLIMITED = ClientLimits(jobs_in_flight=None, images_per_day=None, daily_spend_usd=None)


class LimitsConfig(BaseModel):
    """Limits by key name, with `*` for every other key: `{"*": {...}, "alice": {...}}`."""

    model_config = ConfigDict(frozen=True)

    by_owner: dict[str, ClientLimits] = Field(default_factory=dict)

    def for_owner(self, owner: str) -> ClientLimits:
        return self.by_owner.get(owner) or self.by_owner.get(EVERYONE) or ClientLimits()

    @classmethod
    def parse(cls, raw: str | Mapping[str, Any] | None) -> LimitsConfig:
        """From CLIENT_LIMITS: a JSON object of key name -> limits (null for no limit)."""
        if raw is None or raw == "":
            return cls()
        try:
            data = json.loads(raw) if isinstance(raw, str) else dict(raw)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return cls(
                by_owner={str(name): ClientLimits.model_validate(value) for name, value in data.items()}
            )
        except (ValueError, ValidationError) as exc:
            raise ValueError(
                'CLIENT_LIMITS must be a JSON object such as {"*": {"jobs_in_flight": 20, "images_per_day": '
                f'1000, "daily_spend_usd": 2.0}}}}: {exc}'
            ) from None


class DayUsage(BaseModel):
    """What a client has in flight now and has started today (UTC)."""

    model_config = ConfigDict(frozen=True)

    day: date
    in_flight: int = 0
    jobs_today: int = 0
    spend_today_usd: float = 0.0


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def next_reset(day: date) -> datetime:
    return day_start(day) + timedelta(days=1)


class LimitExceeded(ImagegenError):
    """A submission would take a client past one of its limits; nothing was created."""

    def __init__(
        self, limit: str, used: float, allowed: float, asked: float, resets_at: datetime | None
    ) -> None:
        self.limit, self.used, self.allowed, self.asked, self.resets_at = (
            limit,
            used,
            allowed,
            asked,
            resets_at,
        )
        super().__init__(_explain(limit, used, allowed, asked, resets_at))


_WORDS = {
    "jobs_in_flight": "jobs in flight (pending or processing)",
    "images_per_day": "images per day",
    "daily_spend_usd": "estimated spend per day (USD)",
}


def _explain(limit: str, used: float, allowed: float, asked: float, resets_at: datetime | None) -> str:
    def number(value: float) -> str:
        return f"{value:.4f}" if limit == "daily_spend_usd" else f"{value:g}"

    head = f"Limit reached: {_WORDS.get(limit, limit)}: {number(used)} of {number(allowed)} used, this call asks for {number(asked)} more."
    if resets_at is None:
        return (
            head
            + " Wait for running jobs to finish (wait_for_completion), or ask for fewer images, then call again."
        )
    return (
        head
        + f" It resets at {resets_at:%Y-%m-%dT%H:%M:%SZ}; ask for fewer (or cheaper) images, or try after the reset."
    )


def check(limits: ClientLimits, usage: DayUsage, jobs: int, cost_usd: float) -> None:
    """Raise LimitExceeded when `jobs` more jobs costing `cost_usd` would pass a limit."""
    resets = next_reset(usage.day)
    if limits.jobs_in_flight is not None and usage.in_flight + jobs > limits.jobs_in_flight:
        raise LimitExceeded("jobs_in_flight", usage.in_flight, limits.jobs_in_flight, jobs, None)
    if limits.images_per_day is not None and usage.jobs_today + jobs > limits.images_per_day:
        raise LimitExceeded("images_per_day", usage.jobs_today, limits.images_per_day, jobs, resets)
    if (
        limits.daily_spend_usd is not None
        and usage.spend_today_usd + cost_usd > limits.daily_spend_usd + 1e-9
    ):
        raise LimitExceeded(
            "daily_spend_usd", usage.spend_today_usd, limits.daily_spend_usd, cost_usd, resets
        )

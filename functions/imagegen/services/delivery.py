"""What becomes of a delivered job message: one policy for the Lambda worker and the local pool alike.

A queue delivers each job id at least once. The worker service does the work; this policy decides what
happens to the message afterwards:
- **acknowledge** it: the job finished (completed, failed, cancelled) or there is nothing left to do;
- **redeliver** it after a backoff: a transient failure, the job is pending again;
- **keep** it: let the queue bring it back on its own terms (SQS, after the visibility timeout) because
  another worker holds the job, or the worker crashed and only a later delivery can tell.

On the last delivery a queue will make (its redrive count), the policy gives up first: the job is failed
with a reason, so that no job stays pending behind a message that went to the dead-letter queue. A queue
that never brings back a message on its own (the local one) cannot retry a crash: the job fails at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from imagegen.domain.errors import ReasonCode
from imagegen.domain.models import JobStatus
from imagegen.ports import Clock, JobQueue, JobStore, JobWatcher, QueuedMessage
from imagegen.services.worker import Outcome, ProcessResult, WorkerService

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 5
RETRY_CAP_SECONDS = 300


def retry_delay_seconds(delivery: int, rng: Callable[[], float] = random.random) -> int:
    """Exponential backoff with jitter for redelivering a transient failure: ~5 s, 10 s, 20 s ... 5 min."""
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS << min(max(0, delivery - 1), 16))
    return max(1, round(ceiling * (0.5 + rng() / 2)))


class Disposition(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    REDELIVER = "redeliver"  # the policy has asked the queue to bring the message back after a delay
    KEEP = "keep"  # the queue brings the message back on its own terms


@dataclass(frozen=True)
class Verdict:
    disposition: Disposition
    result: ProcessResult | None = None  # None when the worker crashed or ran out of time
    delay_seconds: float | None = None
    gave_up: ReasonCode | None = None  # set when this delivery failed the job (the queue's last one)
    detail: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.disposition is Disposition.ACKNOWLEDGE


@dataclass(frozen=True)
class DeliveryRules:
    """What the queue does by itself: how often it delivers a message, and whether it brings back a message
    nobody acknowledged (SQS after the visibility timeout; an in-process queue never)."""

    max_deliveries: int | None
    queue_redelivers: bool
    backoff: Callable[[int], float] = retry_delay_seconds


class DeliveryPolicy:
    def __init__(
        self,
        worker: Callable[[], WorkerService],
        store: JobStore,
        queue: JobQueue,
        watcher: JobWatcher,
        clock: Clock,
        rules: DeliveryRules,
    ) -> None:
        # A factory: building the worker service (a secret, a client) can itself fail, and that failure
        # is a failed delivery like any other.
        self._worker = worker
        self._store = store
        self._queue = queue
        self._watcher = watcher
        self._clock = clock
        self.rules = rules

    async def handle(self, message: QueuedMessage, budget_seconds: float | None = None) -> Verdict:
        """Process one delivery within `budget_seconds` (None: no limit) and decide the message's fate."""
        last = self.rules.max_deliveries is not None and message.delivery_count >= self.rules.max_deliveries
        try:
            async with asyncio.timeout(budget_seconds):
                result = await self._worker().process(message.job_id)
        except TimeoutError:
            # Out of time (Lambda is about to end the invocation): give the job back now rather than leave
            # it 'processing' until its lease runs out.
            await self._store.release_job(message.job_id, self._clock.now())
            self._watcher.notify(message.job_id)
            if last:
                return await self._give_up(
                    message, None, ReasonCode.PROVIDER_TIMEOUT, "generation did not finish in time"
                )
            return await self._redeliver(message, None, "ran out of time; the job was handed back")
        except asyncio.CancelledError:
            # A clean shutdown, not a crash: give the job back as never attempted, so that restarts never
            # use up its attempts; the queue (or the next start) delivers it again.
            await self._store.release_job(message.job_id, self._clock.now(), attempted=False)
            self._watcher.notify(message.job_id)
            raise
        except Exception:
            logger.exception("job %s crashed the worker", message.job_id)
            if last or not self.rules.queue_redelivers:
                return await self._give_up(
                    message, None, ReasonCode.INTERNAL_ERROR, "internal error while generating"
                )
            return Verdict(Disposition.KEEP, detail="the worker crashed; the queue will deliver it again")
        if (
            result.outcome is Outcome.SKIPPED
            and self.rules.queue_redelivers
            and await self._held(message.job_id)
        ):
            # Another worker holds the job: a duplicate delivery, or a redelivery after a crash that came
            # back before the lease expired. Acknowledging could strand a crashed job in 'processing';
            # keeping brings it back once the job is finished or can be claimed again.
            return Verdict(Disposition.KEEP, result, detail="another worker holds the job")
        if result.outcome is Outcome.RETRY:
            if last:
                reason = (
                    ReasonCode(result.reason)
                    if result.reason in set(ReasonCode)
                    else ReasonCode.PROVIDER_ERROR
                )
                return await self._give_up(
                    message, result, reason, result.detail or "transient failures persisted"
                )
            return await self._redeliver(message, result, result.detail)
        return Verdict(Disposition.ACKNOWLEDGE, result, detail=result.detail)

    async def _held(self, job_id: str) -> bool:
        job = await self._store.get_job(job_id)
        return job is not None and job.status is JobStatus.PROCESSING

    async def _redeliver(self, message: QueuedMessage, result: ProcessResult | None, detail: str) -> Verdict:
        delay = self.rules.backoff(message.delivery_count)
        if not await self._queue.redeliver(message, delay):
            # The queue refused the early return: it comes back after its usual timeout instead.
            return Verdict(Disposition.KEEP, result, detail=detail)
        return Verdict(Disposition.REDELIVER, result, delay_seconds=delay, detail=detail)

    async def _give_up(
        self, message: QueuedMessage, result: ProcessResult | None, reason: ReasonCode, detail: str
    ) -> Verdict:
        head = (
            f"Gave up after the last delivery allowed by the queue: {detail}"
            if self.rules.queue_redelivers
            else detail
        )
        job = await self._store.get_job(message.job_id)
        tries = job.tries_summary(self._clock.now()) if job is not None else ""
        text = f"{head} {tries}" if tries and tries not in head else head
        changed = await self._store.fail_job(message.job_id, reason.value, text, self._clock.now())
        self._watcher.notify(message.job_id)
        # Where the queue redelivers, the message is kept so that it lands in the dead-letter queue.
        disposition = Disposition.KEEP if self.rules.queue_redelivers else Disposition.ACKNOWLEDGE
        return Verdict(disposition, result, gave_up=reason if changed else None, detail=text)

"""DynamoDB JobStore: two tables, every list a Query on a GSI, every transition a conditional write.

Each item keeps the whole record as JSON (`body`, the source of truth, as the SQLite store does) beside
the attributes the indexes and filters use. A transition reads the item, builds the new record in Python
and writes it back on the condition that the item's revision (`rev`) is still the one read: the same
read-modify-write as SQLite's `BEGIN IMMEDIATE`, with optimistic instead of pessimistic locking, so two
workers racing for one job have exactly one winner.

`total_count` comes from counter items in the jobs table (one per owner, one for everyone), changed in
the same transaction as the job or generation they count. Counter items carry none of the GSI key
attributes, so they never appear in a list. Queries that counters cannot answer (model, time range,
prompt text) are counted with a `Select=COUNT` Query over the same index, bounded in pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from imagegen.adapters.aws import schema
from imagegen.adapters.aws.dynamodb_errors import ConditionFailed, call_off_loop, transact_write
from imagegen.adapters.aws.dynamodb_items import (
    COUNT_GENERATIONS,
    COUNT_IN_FLIGHT,
    COUNT_JOBS,
    COUNTS_ALL_KEY,
    DAY_JOBS,
    DAY_SPEND_MICROS,
    KIND_GENERATION,
    KIND_JOB,
    OWNERS,
    USAGE_RETENTION_DAYS,
    Item,
    generation_item,
    in_flight,
    job_from,
    job_item,
    micros,
    owner_counts_key,
    owner_status_key,
    status_count,
    status_fields,
    usage_key,
)
from imagegen.adapters.aws.dynamodb_query import QueryPlan
from imagegen.domain.cursor import encode_cursor
from imagegen.domain.errors import StorageError
from imagegen.domain.limits import ClientLimits, DayUsage, check, day_start, utc_day
from imagegen.domain.models import Generation, Job, JobStatus
from imagegen.ports import JobQuery, Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

# Beyond this many 1 MB pages a filtered count is not worth its read cost: total_count becomes None.
COUNT_QUERY_MAX_PAGES = 20
# A transition that loses a race re-reads and tries again this many times before giving up.
_TRANSITION_ATTEMPTS = 5

RecordT = TypeVar("RecordT", Job, Generation)
R = TypeVar("R")


class DynamoDBJobStore:
    def __init__(self, jobs_table: str, generations_table: str, client: DynamoDBClient) -> None:
        self._jobs = jobs_table
        self._generations = generations_table
        self._client = client

    # ------------------------------------------------------------ plumbing

    async def _run(self, fn: Callable[..., R], /, **kwargs: Any) -> R:
        return await call_off_loop(fn, **kwargs)

    async def _transact(self, items: Sequence[TransactWriteItemTypeDef]) -> None:
        await asyncio.to_thread(transact_write, self._client, items)

    async def _get_item(self, table: str, key: str) -> Item | None:
        response = await self._run(
            self._client.get_item,
            TableName=table,
            Key={schema.PARTITION_KEY: {"S": key}},
            ConsistentRead=True,
        )
        return response.get("Item")

    # ------------------------------------------------------------ writes

    async def create_jobs(self, jobs: Sequence[Job], limits: ClientLimits | None = None) -> None:
        if not jobs:
            return
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._jobs,
                    "Item": job_item(job, rev=1),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY},
                }
            }
            for job in jobs
        ]
        deltas: dict[str | None, dict[str, int]] = {}
        for job in jobs:
            for scope in (job.owner, None):
                counts = deltas.setdefault(scope, {})
                counts[COUNT_JOBS] = counts.get(COUNT_JOBS, 0) + 1
                counts[status_count(job.status)] = counts.get(status_count(job.status), 0) + 1
                counts[COUNT_IN_FLIGHT] = counts.get(COUNT_IN_FLIGHT, 0) + in_flight(job.status)
        owners = sorted({job.owner for job in jobs})
        guards: dict[str, Mapping[str, int]] = {}
        if limits is not None:
            owner = _one_owner(jobs)
            # A batch larger than a limit can never pass; refuse it before writing anything.
            check(limits, DayUsage(day=utc_day(jobs[0].created_at)), len(jobs), _cost(jobs))
            if limits.jobs_in_flight is not None:
                guards[owner] = {COUNT_IN_FLIGHT: limits.jobs_in_flight - len(jobs)}
        by_day: dict[tuple[str, date], list[Job]] = {}
        for job in jobs:
            by_day.setdefault((job.owner, utc_day(job.created_at)), []).append(job)
        for (owner, day), group in by_day.items():
            items.append(self._day_usage_update(owner, day, len(group), _cost(group), limits))
        items.extend(self._counter_updates(deltas, new_owners=owners, guards=guards))
        try:
            await self._transact(items)
        except ConditionFailed as exc:
            if limits is not None and exc.failed - set(range(len(jobs))):
                # A limit's condition failed, not a job id's: say which limit, with today's numbers.
                owner, day = _one_owner(jobs), utc_day(jobs[0].created_at)
                usage = await self.day_usage(owner, day)
                check(limits, usage, len(jobs), _cost(jobs))
                raise StorageError("a limit changed while these jobs were being created; try again") from None
            raise StorageError("a job with one of these ids already exists") from None

    def _day_usage_update(
        self, owner: str, day: date, jobs: int, cost_usd: float, limits: ClientLimits | None
    ) -> TransactWriteItemTypeDef:
        conditions = []
        values: dict[str, Any] = {
            ":jobs": {"N": str(jobs)},
            ":spend": {"N": str(micros(cost_usd))},
            ":expires": {"N": str(int(day_start(day).timestamp()) + USAGE_RETENTION_DAYS * 86400)},
        }
        if limits is not None and limits.images_per_day is not None:
            conditions.append("(attribute_not_exists(#jobs) OR #jobs <= :max_jobs)")
            values[":max_jobs"] = {"N": str(limits.images_per_day - jobs)}
        if limits is not None and limits.daily_spend_usd is not None:
            conditions.append("(attribute_not_exists(#spend) OR #spend <= :max_spend)")
            values[":max_spend"] = {"N": str(micros(limits.daily_spend_usd) - micros(cost_usd))}
        update: dict[str, Any] = {
            "TableName": self._jobs,
            "Key": {schema.PARTITION_KEY: {"S": usage_key(owner, day)}},
            "UpdateExpression": "ADD #jobs :jobs, #spend :spend SET #expires = :expires",
            "ExpressionAttributeNames": {
                "#jobs": DAY_JOBS,
                "#spend": DAY_SPEND_MICROS,
                "#expires": schema.TTL_ATTRIBUTE,
            },
            "ExpressionAttributeValues": values,
        }
        if conditions:
            update["ConditionExpression"] = " AND ".join(conditions)
        return {"Update": update}  # type: ignore[typeddict-item]

    async def day_usage(self, owner: str, day: date) -> DayUsage:
        counters = await self._get_item(self._jobs, owner_counts_key(owner)) or {}
        today = await self._get_item(self._jobs, usage_key(owner, day)) or {}
        return DayUsage(
            day=day,
            in_flight=max(0, _number(counters, COUNT_IN_FLIGHT)),
            jobs_today=_number(today, DAY_JOBS),
            spend_today_usd=_number(today, DAY_SPEND_MICROS) / 1_000_000,
        )

    async def get_job(self, job_id: str) -> Job | None:
        item = await self._get_item(self._jobs, job_id)
        return job_from(item) if item else None

    async def claim_job(self, job_id: str, now: datetime, lease_seconds: float) -> Job | None:
        item = await self._get_item(self._jobs, job_id)
        job = job_from(item) if item else None
        claimed = job.claimed(now, lease_seconds) if job else None
        if item is None or job is None or claimed is None:
            return None
        try:
            await self._replace_job(job, claimed, int(item["rev"]["N"]))
        except ConditionFailed:
            # Another worker claimed (or someone cancelled) between our read and write: they won.
            return None
        return claimed

    async def complete_job(self, job_id: str, generation: Generation, now: datetime) -> bool:
        put_generation = True
        for _ in range(_TRANSITION_ATTEMPTS):
            item = await self._get_item(self._jobs, job_id)
            job = job_from(item) if item else None
            done = job.completed(generation, now) if job else None
            if item is None or job is None or done is None:
                return False
            existing = await self._get_item(self._generations, job_id)
            # The generation write is conditional too: at most one record per job, ever.
            put_generation = existing is None
            try:
                await self._replace_job(
                    job, done, int(item["rev"]["N"]), generation=generation if put_generation else None
                )
            except ConditionFailed:
                continue
            return True
        return False

    async def fail_job(self, job_id: str, reason: str, message: str, now: datetime) -> bool:
        return await self._finish(job_id, lambda job: job.failed(reason, message, now))

    async def cancel_job(self, job_id: str, now: datetime) -> Job | None:
        await self._finish(job_id, lambda job: job.cancelled(now))
        return await self.get_job(job_id)

    async def _finish(self, job_id: str, finish: Callable[[Job], Job | None]) -> bool:
        # A pending job may be claimed between our read and write; that is no reason not to finish it.
        for _ in range(_TRANSITION_ATTEMPTS):
            item = await self._get_item(self._jobs, job_id)
            job = job_from(item) if item else None
            finished = finish(job) if job else None
            if item is None or job is None or finished is None:
                return False
            try:
                await self._replace_job(job, finished, int(item["rev"]["N"]))
            except ConditionFailed:
                continue
            return True
        raise StorageError(f"job {job_id} kept changing; could not finish it")

    async def release_job(self, job_id: str, now: datetime, *, attempted: bool = True) -> bool:
        item = await self._get_item(self._jobs, job_id)
        job = job_from(item) if item else None
        released = job.released(now, attempted=attempted) if job else None
        if item is None or job is None or released is None:
            return False
        try:
            await self._replace_job(job, released, int(item["rev"]["N"]))
        except ConditionFailed:
            return False
        return True

    async def delete_generation(self, job_id: str) -> bool:
        """Delete the record and forget the job's image in one transaction (the object is the caller's)."""
        for _ in range(_TRANSITION_ATTEMPTS):
            generation = await self._get_item(self._generations, job_id)
            item = await self._get_item(self._jobs, job_id)
            job = job_from(item)
            items: list[TransactWriteItemTypeDef] = []
            if generation is not None:
                owner = generation["owner"]["S"]
                items.append(
                    {
                        "Delete": {
                            "TableName": self._generations,
                            "Key": {schema.PARTITION_KEY: {"S": job_id}},
                            "ConditionExpression": "attribute_exists(#pk)",
                            "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY},
                        }
                    }
                )
                items.extend(
                    self._counter_updates({owner: {COUNT_GENERATIONS: -1}, None: {COUNT_GENERATIONS: -1}})
                )
            if item is not None and job is not None and job.image is not None:
                items.append(self._job_put(job.without_image(), int(item["rev"]["N"])))
            if not items:
                return False
            try:
                await self._transact(items)
            except ConditionFailed:
                continue  # changed in between: look again
            return generation is not None
        raise StorageError(f"generation {job_id} kept changing; could not delete it")

    def _job_put(self, job: Job, rev: int) -> TransactWriteItemTypeDef:
        """Write `job` over revision `rev`, only if nobody wrote it since we read it."""
        return {
            "Put": {
                "TableName": self._jobs,
                "Item": job_item(job, rev=rev + 1),
                "ConditionExpression": "#rev = :rev",
                "ExpressionAttributeNames": {"#rev": "rev"},
                "ExpressionAttributeValues": {":rev": {"N": str(rev)}},
            }
        }

    async def _replace_job(
        self, before: Job, after: Job, rev: int, *, generation: Generation | None = None
    ) -> None:
        items: list[TransactWriteItemTypeDef] = [self._job_put(after, rev)]
        deltas: dict[str | None, dict[str, int]] = {}
        if before.status is not after.status:
            for scope in (after.owner, None):
                deltas[scope] = {
                    status_count(before.status): -1,
                    status_count(after.status): 1,
                    COUNT_IN_FLIGHT: in_flight(after.status) - in_flight(before.status),
                }
        if generation is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self._generations,
                        "Item": generation_item(generation),
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY},
                    }
                }
            )
            for scope in (generation.owner, None):
                deltas.setdefault(scope, {})[COUNT_GENERATIONS] = 1
        items.extend(self._counter_updates(deltas))
        await self._transact(items)

    def _counter_updates(
        self,
        deltas: Mapping[str | None, Mapping[str, int]],
        new_owners: Sequence[str] = (),
        guards: Mapping[str, Mapping[str, int]] | None = None,
    ) -> Iterator[TransactWriteItemTypeDef]:
        """One Update per counter item (a transaction may touch an item once); None is 'everyone'.

        `guards` holds, per owner, counters that must not exceed a value before the update (a limit).
        """
        for scope, counts in deltas.items():
            changes = {name: delta for name, delta in counts.items() if delta}
            names = {f"#c{index}": name for index, name in enumerate(changes)}
            values: dict[str, Any] = {
                f":c{index}": {"N": str(delta)} for index, delta in enumerate(changes.values())
            }
            clauses = [f"#c{index} :c{index}" for index in range(len(changes))]
            if scope is None and new_owners:
                # The owner registry lets unfinished_job_ids query each owner's status partitions.
                names["#owners"] = OWNERS
                values[":owners"] = {"SS": list(new_owners)}
                clauses.append("#owners :owners")
            if not clauses:
                continue
            update: dict[str, Any] = {
                "TableName": self._jobs,
                "Key": {
                    schema.PARTITION_KEY: {"S": COUNTS_ALL_KEY if scope is None else owner_counts_key(scope)}
                },
                "UpdateExpression": "ADD " + ", ".join(clauses),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
            conditions = []
            for index, (counter, ceiling) in enumerate(((guards or {}).get(scope or "") or {}).items()):
                names[f"#g{index}"] = counter
                values[f":g{index}"] = {"N": str(ceiling)}
                conditions.append(f"(attribute_not_exists(#g{index}) OR #g{index} <= :g{index})")
            if conditions:
                update["ConditionExpression"] = " AND ".join(conditions)
            yield {"Update": update}  # type: ignore[typeddict-item]

    # ------------------------------------------------------------ reads

    async def get_generation(self, job_id: str) -> Generation | None:
        item = await self._get_item(self._generations, job_id)
        return Generation.model_validate_json(item["body"]["S"]) if item and "body" in item else None

    async def list_jobs(self, query: JobQuery) -> Page[Job]:
        statuses = sorted(query.statuses or (), key=lambda status: status.value)
        if query.owner is not None and len(statuses) == 1:
            index, partition = (
                schema.GSI_BY_OWNER_STATUS,
                ("owner_status", owner_status_key(query.owner, statuses[0])),
            )
            status_filter: list[JobStatus] = []
        elif query.owner is not None:
            index, partition, status_filter = schema.GSI_BY_OWNER, ("owner", query.owner), statuses
        else:
            index, partition, status_filter = schema.GSI_BY_KIND, ("kind", KIND_JOB), statuses
        plan = QueryPlan(self._jobs, index, partition, query, status_filter)
        items, next_cursor = await self._page(plan, Job)
        total = await self._total(plan, query, status_fields(statuses) if statuses else [COUNT_JOBS])
        return Page[Job](items=items, next_cursor=next_cursor, total_count=total)

    async def list_generations(self, query: JobQuery) -> Page[Generation]:
        if query.owner is not None:
            index, partition = schema.GSI_BY_OWNER, ("owner", query.owner)
        else:
            index, partition = schema.GSI_BY_KIND, ("kind", KIND_GENERATION)
        plan = QueryPlan(self._generations, index, partition, query, [])
        items, next_cursor = await self._page(plan, Generation)
        total = await self._total(plan, query, [COUNT_GENERATIONS])
        return Page[Generation](items=items, next_cursor=next_cursor, total_count=total)

    async def unfinished_job_ids(self) -> list[str]:
        registry = await self._get_item(self._jobs, COUNTS_ALL_KEY)
        owners = sorted(registry[OWNERS]["SS"]) if registry and OWNERS in registry else []
        keys: list[tuple[str, str]] = []
        for owner in owners:
            for status in (JobStatus.PENDING, JobStatus.PROCESSING):
                request: QueryInputTypeDef = {
                    "TableName": self._jobs,
                    "IndexName": schema.GSI_BY_OWNER_STATUS,
                    "KeyConditionExpression": "#pk = :pk",
                    "ExpressionAttributeNames": {"#pk": "owner_status"},
                    "ExpressionAttributeValues": {":pk": {"S": owner_status_key(owner, status)}},
                }
                async for item in self._query_items(request):
                    keys.append((item[schema.SORT_ATTRIBUTE]["S"], item[schema.PARTITION_KEY]["S"]))
        return [job_id for _, job_id in sorted(keys)]

    async def _query_items(self, request: QueryInputTypeDef) -> AsyncIterator[Item]:
        """Every item of a Query, page after page."""
        start: Any = None
        while True:
            page_request: QueryInputTypeDef = {**request, "ExclusiveStartKey": start} if start else request
            response = await self._run(self._client.query, **page_request)
            for item in response.get("Items", []):
                yield item
            start = response.get("LastEvaluatedKey")
            if not start:
                return

    async def _page(self, plan: QueryPlan, record: type[RecordT]) -> tuple[list[RecordT], str | None]:
        wanted = plan.query.offset + plan.query.limit + 1
        request = plan.request(paged=True)
        if request is None:
            return [], None
        # Without a filter every read item counts, so read exactly what the page needs; with one, read
        # in larger steps until enough items pass it.
        request["Limit"] = wanted if "FilterExpression" not in request else max(wanted, 100)
        collected: list[Item] = []
        async for item in self._query_items(request):
            if plan.cursor_key is not None and item[schema.SORT_ATTRIBUTE]["S"] >= plan.cursor_key:
                continue
            collected.append(item)
            if len(collected) >= wanted:
                break
        window = collected[plan.query.offset :]
        records = [record.model_validate_json(item["body"]["S"]) for item in window[: plan.query.limit]]
        next_cursor = None
        if len(window) > plan.query.limit and records:
            next_cursor = encode_cursor(records[-1].created_at, records[-1].job_id)
        return records, next_cursor

    async def _total(self, plan: QueryPlan, query: JobQuery, fields: Sequence[str]) -> int | None:
        if (
            query.model is None
            and query.created_after is None
            and query.created_before is None
            and not query.prompt_contains
        ):
            key = COUNTS_ALL_KEY if query.owner is None else owner_counts_key(query.owner)
            item = await self._get_item(self._jobs, key)
            return sum(int(item[field]["N"]) for field in fields if item and field in item)
        request = plan.request(paged=False)
        if request is None:
            return 0
        request["Select"] = "COUNT"
        total = 0
        start: Any = None
        for _ in range(COUNT_QUERY_MAX_PAGES):
            page_request: QueryInputTypeDef = {**request, "ExclusiveStartKey": start} if start else request
            response = await self._run(self._client.query, **page_request)
            total += response.get("Count", 0)
            start = response.get("LastEvaluatedKey")
            if not start:
                return total
        return None


def _one_owner(jobs: Sequence[Job]) -> str:
    owners = {job.owner for job in jobs}
    if len(owners) != 1:
        raise ValueError("limits apply to the jobs of one owner at a time")
    return owners.pop()


def _number(item: Mapping[str, Any], attribute: str) -> int:
    value = item.get(attribute, {}).get("N")
    return int(value) if value is not None else 0


def _cost(jobs: Sequence[Job]) -> float:
    return sum(job.estimated_cost_usd or 0.0 for job in jobs)

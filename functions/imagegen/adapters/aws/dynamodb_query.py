"""One list request as a DynamoDB Query: index, partition, sort-key range and filter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from imagegen.adapters.aws import schema
from imagegen.domain.cursor import cursor_sort_key, format_time
from imagegen.domain.models import JobStatus
from imagegen.ports import JobQuery

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef


class QueryPlan:
    """One list request as a DynamoDB Query: index, partition, sort-key range and filter."""

    def __init__(
        self,
        table: str,
        index: str,
        partition: tuple[str, str],
        query: JobQuery,
        statuses: Sequence[JobStatus],
    ) -> None:
        self.table = table
        self.index = index
        self.partition = partition
        self.query = query
        self.statuses = statuses
        self.cursor_key = cursor_sort_key(query.cursor) if query.cursor else None

    def request(self, *, paged: bool) -> QueryInputTypeDef | None:
        """The Query, or None when the range is empty. `paged` applies the cursor (counts ignore it)."""
        names = {"#pk": self.partition[0]}
        values: dict[str, Any] = {":pk": {"S": self.partition[1]}}
        # Keys are '<fixed-width time>#<id>', so a bare time string sorts before every key of that
        # instant and time + '$' after them ('$' follows '#'): strict time bounds become inclusive
        # key bounds that no key can equal.
        low = format_time(self.query.created_after) + "$" if self.query.created_after else None
        high = format_time(self.query.created_before) if self.query.created_before else None
        if paged and self.cursor_key is not None and (high is None or self.cursor_key < high):
            # Inclusive of the cursor's own key; _page drops it. A key bound (rather than
            # ExclusiveStartKey) stays valid when the cursor's item changed status or was deleted.
            high = self.cursor_key
        condition = "#pk = :pk"
        if low is not None or high is not None:
            names["#sk"] = schema.SORT_ATTRIBUTE  # DynamoDB rejects unused names
        if low is not None and high is not None:
            if low > high:
                return None
            condition += " AND #sk BETWEEN :low AND :high"
            values.update({":low": {"S": low}, ":high": {"S": high}})
        elif low is not None:
            condition += " AND #sk >= :low"
            values[":low"] = {"S": low}
        elif high is not None:
            condition += " AND #sk <= :high"
            values[":high"] = {"S": high}

        filters: list[str] = []
        if self.statuses:
            names["#status"] = "status"
            placeholders = []
            for index, status in enumerate(self.statuses):
                values[f":s{index}"] = {"S": status.value}
                placeholders.append(f":s{index}")
            filters.append(f"#status IN ({', '.join(placeholders)})")
        if self.query.model:
            names["#model"] = "model"
            values[":model"] = {"S": self.query.model}
            filters.append("#model = :model")
        if self.query.prompt_contains:
            names["#prompt"] = "prompt_lower"
            values[":prompt"] = {"S": self.query.prompt_contains.lower()}
            filters.append("contains(#prompt, :prompt)")

        request: QueryInputTypeDef = {
            "TableName": self.table,
            "IndexName": self.index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        return request

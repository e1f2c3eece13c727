"""DynamoDB table layout, shared by the adapters, `imagegen bootstrap-aws` and the CDK app.

Every list the tools make is a Query on an index, never a Scan:
- jobs of one owner, newest first ............ jobs / GSI `by-owner`         (owner, created_key)
- jobs of one owner in one status ............ jobs / GSI `by-owner-status`  (owner_status, created_key)
- every job, for admin keys .................. jobs / GSI `by-kind`          (kind, created_key)
- generations of one owner, newest first ..... generations / GSI `by-owner`  (owner, created_key)
- every generation, for admin keys ........... generations / GSI `by-kind`   (kind, created_key)
- MCP tasks of one owner, newest first ....... jobs / GSI `by-task-owner`    (task_owner, created_key)
`created_key` is `<ISO-8601 UTC created_at>#<job_id>`: unique, sortable, and the keyset cursor position.
Task records share the jobs table under `task#<task id>` keys; only they carry `task_owner`, so the task
index holds nothing else and the job indexes hold no tasks.

The OAuth table holds every OAuth record under one key attribute, `pk` = `<what>#<id or digest>`; only
grant items carry the GSI attributes, so the indexes list grants and nothing else:
- grants of one owner, newest first .......... oauth / GSI `by-owner`  (owner, created_key)
- every grant, for the admin ................. oauth / GSI `by-kind`   (kind, created_key)
Everything that expires carries `expires_at` (epoch seconds) for DynamoDB's TTL.
"""

from __future__ import annotations

from typing import Final

PARTITION_KEY: Final = "job_id"
SORT_ATTRIBUTE: Final = "created_key"
TTL_ATTRIBUTE: Final = "expires_at"

GSI_BY_OWNER: Final = "by-owner"
GSI_BY_OWNER_STATUS: Final = "by-owner-status"
GSI_BY_KIND: Final = "by-kind"
GSI_BY_TASK_OWNER: Final = "by-task-owner"
TASK_KEY_PREFIX: Final = "task#"

JOBS_INDEXES: Final = {
    GSI_BY_OWNER: ("owner", SORT_ATTRIBUTE),
    GSI_BY_OWNER_STATUS: ("owner_status", SORT_ATTRIBUTE),
    GSI_BY_KIND: ("kind", SORT_ATTRIBUTE),
    GSI_BY_TASK_OWNER: ("task_owner", SORT_ATTRIBUTE),
}
GENERATIONS_INDEXES: Final = {
    GSI_BY_OWNER: ("owner", SORT_ATTRIBUTE),
    GSI_BY_KIND: ("kind", SORT_ATTRIBUTE),
}
OAUTH_PARTITION_KEY: Final = "pk"
OAUTH_INDEXES: Final = {
    GSI_BY_OWNER: ("owner", SORT_ATTRIBUTE),
    GSI_BY_KIND: ("kind", SORT_ATTRIBUTE),
}
# The lists read whole records from the index, so every GSI projects ALL attributes.
GSI_PROJECTION: Final = "ALL"

# Environment variables the Lambda functions read; the CDK app sets them.
ENV_JOBS_TABLE: Final = "JOBS_TABLE_NAME"
ENV_GENERATIONS_TABLE: Final = "GENERATIONS_TABLE_NAME"
ENV_OAUTH_TABLE: Final = "OAUTH_TABLE_NAME"  # the API function only: OAuth clients, grants and tokens
ENV_QUEUE_URL: Final = "JOBS_QUEUE_URL"
ENV_R2_BUCKET: Final = "R2_BUCKET"
ENV_R2_PUBLIC_BASE_URL: Final = "R2_PUBLIC_BASE_URL"
ENV_R2_ACCOUNT_ID: Final = "CLOUDFLARE_ACCOUNT_ID"
ENV_R2_JURISDICTION: Final = "R2_JURISDICTION"
ENV_SECRET_ARN: Final = "IMAGEGEN_SECRET_ARN"
ENV_ALLOWED_HOSTS: Final = "ALLOWED_HOSTS"  # comma-separated custom domains; the API domain is always allowed
ENV_PUBLIC_URL: Final = "API_PUBLIC_URL"  # the API's public base URL (custom domain or execute-api)
ENV_ALLOWED_ORIGINS: Final = "ALLOWED_ORIGINS"  # optional, comma-separated browser origins (https://...)
ENV_WAIT_TIMEOUT: Final = "WAIT_TIMEOUT_SECONDS"
ENV_CLIENT_LIMITS: Final = "CLIENT_LIMITS"  # optional fair-use limits per key (JSON), read by the API
# The worker marks a job failed on the last delivery before SQS moves it to the DLQ: set it to the
# queue's redrive maxReceiveCount.
ENV_MAX_RECEIVE_COUNT: Final = "MAX_RECEIVE_COUNT"
DEFAULT_MAX_RECEIVE_COUNT: Final = 5

# One Secrets Manager secret holds every credential as a JSON object with these keys. The operator sets
# the values after deploy; the template never contains them.
SECRET_AUTH_TOKEN: Final = "AUTH_TOKEN"
SECRET_AUTH_TOKENS: Final = "AUTH_TOKENS"  # optional JSON object {"client name": "token", ...}
SECRET_ADMIN_CLIENT: Final = "ADMIN_CLIENT"  # optional name of the key that sees every client's jobs
SECRET_CLOUDFLARE_API_TOKEN: Final = "CLOUDFLARE_API_TOKEN"
SECRET_R2_ACCESS_KEY_ID: Final = "R2_ACCESS_KEY_ID"
SECRET_R2_SECRET_ACCESS_KEY: Final = "R2_SECRET_ACCESS_KEY"
SECRET_KEYS: Final = (
    SECRET_AUTH_TOKEN,
    SECRET_AUTH_TOKENS,
    SECRET_ADMIN_CLIENT,
    SECRET_CLOUDFLARE_API_TOKEN,
    SECRET_R2_ACCESS_KEY_ID,
    SECRET_R2_SECRET_ACCESS_KEY,
)

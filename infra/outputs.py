"""Stack output keys, shared by the stack, `make deploy` and tools that read the deployed stack."""

from __future__ import annotations


class Outputs:
    """Stack output keys: `imagegen logs` and `make deploy` find resources by these names."""

    MCP_URL = "McpUrl"
    API_URL = "ApiUrl"
    API_FUNCTION_NAME = "ApiFunctionName"
    API_LOG_GROUP = "ApiLogGroupName"
    API_ACCESS_LOG_GROUP = "ApiAccessLogGroupName"
    WORKER_FUNCTION_NAME = "WorkerFunctionName"
    WORKER_LOG_GROUP = "WorkerLogGroupName"
    JOBS_TABLE = "JobsTableName"
    GENERATIONS_TABLE = "GenerationsTableName"
    OAUTH_TABLE = "OAuthTableName"
    QUEUE_URL = "QueueUrl"
    DEAD_LETTER_QUEUE_URL = "DeadLetterQueueUrl"
    SECRET_ARN = "SecretArn"  # noqa: S105 - an output name, not a credential
    ALARM_TOPIC_ARN = "AlarmTopicArn"
    DASHBOARD_NAME = "DashboardName"
    CUSTOM_DOMAIN_TARGET = "CustomDomainTarget"

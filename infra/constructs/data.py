"""The DynamoDB tables, laid out exactly as `imagegen.adapters.aws.schema` describes them."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from imagegen.adapters.aws import schema
from infra.nag import acknowledge

# Exactly what DynamoDBJobStore calls: GetItem, Query on the indexes, and TransactWriteItems, whose Put,
# Update and Delete items need the matching item permissions. No Scan, no batch calls, no table management.
# The API submits, lists, cancels and deletes; the worker only reads its job and moves it along.
API_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
WORKER_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# Exactly what DynamoDBGrantStore calls, from the API function only: GetItem, PutItem, UpdateItem,
# DeleteItem (a consent is taken by deleting it), Query on the grant indexes, and TransactWriteItems,
# whose Put and Update items need the matching item permissions.
OAUTH_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)

_PROJECTIONS = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY}


class DataTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self._retain = retain
        self.jobs = self._table("Jobs", schema.JOBS_INDEXES)
        self.generations = self._table("Generations", schema.GENERATIONS_INDEXES)
        # OAuth clients, consents, codes, grants and tokens (digests only); TTL removes what expired.
        self.oauth = self._table("OAuth", schema.OAUTH_INDEXES, partition_key=schema.OAUTH_PARTITION_KEY)

    def _table(
        self,
        construct_id: str,
        indexes: Mapping[str, tuple[str, str]],
        partition_key: str = schema.PARTITION_KEY,
    ) -> dynamodb.Table:
        string = dynamodb.AttributeType.STRING
        table = dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition_key, type=string),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            # The AWS owned key: encrypted at rest with no KMS charges and no key to manage.
            encryption=dynamodb.TableEncryption.DEFAULT,
            deletion_protection=self._retain,
            removal_policy=RemovalPolicy.RETAIN if self._retain else RemovalPolicy.DESTROY,
        )
        for index_name, (partition, sort) in indexes.items():
            table.add_global_secondary_index(
                index_name=index_name,
                partition_key=dynamodb.Attribute(name=partition, type=string),
                sort_key=dynamodb.Attribute(name=sort, type=string),
                projection_type=_PROJECTIONS[schema.GSI_PROJECTION],
            )
        return table

    @property
    def tables(self) -> tuple[dynamodb.Table, dynamodb.Table]:
        return self.jobs, self.generations

    def grant_api(self, grantee: iam.IGrantable) -> None:
        for table in self.tables:
            self._grant(grantee, table, API_ACTIONS)

    def grant_worker(self, grantee: iam.IGrantable) -> None:
        """Both tables: a job's completion writes the job and its generation in one transaction."""
        for table in self.tables:
            self._grant(grantee, table, WORKER_ACTIONS)

    def grant_oauth(self, grantee: iam.IGrantable) -> None:
        """The OAuth table, for the API function: the authorization server and the bearer check."""
        self._grant(grantee, self.oauth, OAUTH_ACTIONS)

    def _grant(self, grantee: iam.IGrantable, table: dynamodb.Table, actions: tuple[str, ...]) -> None:
        table.grant(grantee, *actions)
        principal = grantee.grant_principal
        if isinstance(principal, Construct):
            stack = Stack.of(table)
            cfn_table = table.node.default_child
            assert isinstance(cfn_table, CfnResource)
            logical_id = stack.resolve(stack.get_logical_id(cfn_table))
            acknowledge(
                principal,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/index/*]",
                "Queries go through the table's own GSIs (schema.JOBS_INDEXES / GENERATIONS_INDEXES / "
                "OAUTH_INDEXES); "
                "'index/*' under this one table ARN covers exactly those, and no other table.",
            )

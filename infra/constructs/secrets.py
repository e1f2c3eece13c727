"""The one Secrets Manager secret that holds every credential, created without any secret value."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from imagegen.adapters.aws import schema
from infra.nag import acknowledge

SECRET_KEYS = schema.SECRET_KEYS
# Secrets Manager generates the bearer token at deploy time, so the server is never open, and the value
# exists only in the secret (not in the template, the assembly or anyone's shell history).
GENERATED_KEY = schema.SECRET_AUTH_TOKEN
GENERATED_LENGTH = 48
# Empty strings mean "not configured" to the functions; the operator fills them in after deploy.
# Frozen on purpose, not derived from SECRET_KEYS: any change to the generator makes CloudFormation
# generate a new value on the next deploy, replacing the stored credentials and the clients' token. A
# key added to schema later needs no template change: the operator (or `imagegen`) just sets it.
INITIAL_PLACEHOLDERS = (
    schema.SECRET_ADMIN_CLIENT,
    schema.SECRET_AUTH_TOKENS,
    schema.SECRET_CLOUDFLARE_API_TOKEN,
    schema.SECRET_R2_ACCESS_KEY_ID,
    schema.SECRET_R2_SECRET_ACCESS_KEY,
)


class Credentials(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        placeholders = dict.fromkeys(INITIAL_PLACEHOLDERS, "")
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description=f"imagegen ({stage}) credentials: JSON with keys {', '.join(SECRET_KEYS)}",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps(placeholders, sort_keys=True),
                generate_string_key=GENERATED_KEY,
                password_length=GENERATED_LENGTH,
                exclude_punctuation=True,
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "The secret holds third-party credentials (Cloudflare API token, R2 keys) and client "
            "bearer tokens that only their issuers can rotate; a rotation Lambda could not mint them. "
            "Operators rotate by writing a new value, which the functions pick up within 5 minutes.",
        )

    def grant_read(self, grantee: iam.IGrantable) -> None:
        self.secret.grant_read(grantee)

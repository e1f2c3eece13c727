"""The public MCP endpoint: an API Gateway HTTP API in front of the `mcp_api` function.

Why an HTTP API (v2) and not a REST API (v1):
- Cost and latency: $1.00 per million requests against $3.50, and a lighter proxy path.
- Nothing we need is REST-only. Authentication is a bearer token checked (in constant time, mapped to a
  client name) by the function itself, a static key or an access token from the function's own OAuth
  2.1 authorization server, so API keys, usage plans and Cognito authorizers bring nothing.
  Request validation is done by the MCP SDK against the JSON-RPC schemas.
- Neither can stream a Python Lambda's response (REST streaming needs Lambda response streaming, which
  the managed Python runtime lacks), and both cut integrations at about 30 s. So /sse (legacy HTTP+SSE,
  a long-lived stream) is not routed on AWS; clients use Streamable HTTP at /mcp, where the server
  answers stateless JSON and wait tools return within 25 s with a "call again" result.
- The trade-off: HTTP APIs cannot attach AWS WAF. Throttling on the stage and the function's
  reserved capacity bound abuse instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_logs as logs
from constructs import Construct

from imagegen.runtime import deployment
from imagegen.web.routes import CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, MCP_PATH
from infra.config import DeployConfig
from infra.constructs.functions import PythonFunction, SharedCode
from infra.nag import acknowledge

# One JSON object per request; never headers, so the bearer token cannot reach the logs.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "method": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "error": "$context.error.message",
    "userAgent": "$context.identity.userAgent",
}


class McpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        shared: SharedCode,
        environment: Mapping[str, str],
        oauth_table: str,
        log_retention: logs.RetentionDays,
        tracing: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.custom_domain = config.custom_domain
        self.domain_name: apigwv2.DomainName | None = None
        if config.custom_domain and config.custom_domain_certificate_arn:
            self.domain_name = apigwv2.DomainName(
                self,
                "DomainName",
                domain_name=config.custom_domain,
                certificate=acm.Certificate.from_certificate_arn(
                    self, "Certificate", config.custom_domain_certificate_arn
                ),
            )

        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=f"imagegen-{config.stage}",
            description="imagegen remote MCP server",
            create_default_stage=False,
            cors_preflight=_cors(config.allowed_origins),
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit
            ),
            access_log_settings=_AccessLogSettings(
                apigwv2.LogGroupLogDestination(self.access_logs),
                apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
            domain_mapping=apigwv2.DomainMappingOptions(domain_name=self.domain_name)
            if self.domain_name
            else None,
        )

        self.execute_api_host = f"{self.http_api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        hosts = [self.execute_api_host, *([config.custom_domain] if config.custom_domain else [])]
        self.handler = PythonFunction(
            self,
            "Api",
            shared=shared,
            handler=deployment.API_HANDLER,
            description="imagegen MCP API (Streamable HTTP, stateless)",
            # HTTP APIs end an integration at 30 s whatever the function does; the handler answers by
            # the earlier of the two deadlines.
            timeout=Duration.seconds(deployment.API_TIMEOUT_SECONDS),
            memory_size=deployment.API_MEMORY_MB,
            # The function's Origin check accepts the same browser origins that CORS lets through. The
            # public URL (the custom domain when there is one) is the OAuth issuer.
            environment=deployment.api_environment(
                environment,
                oauth_table=oauth_table,
                public_url=self.base_url,
                domain_names=hosts,
                allowed_origins=list(config.allowed_origins),
                client_limits=config.client_limits,
            ),
            log_retention=log_retention,
            tracing=tracing,
        )
        self.function = self.handler.function

        integration = integrations.HttpLambdaIntegration(
            "Mcp",
            self.function,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        for path, methods in deployment.API_ROUTES.items():
            self.http_api.add_routes(
                path=path, methods=[apigwv2.HttpMethod(method) for method in methods], integration=integration
            )

        # APIG2 (request validation) and COG4 (Cognito authorizer) check REST API methods only, so only
        # the authorizer rule applies to this HTTP API's routes.
        acknowledge(
            self.http_api,
            "AwsSolutions-APIG4",
            "Clients authenticate with a bearer token that the function checks in constant time and "
            "maps to a client name (several keys, one admin): a static key, or an access token from the "
            "function's own OAuth 2.1 authorization server. An API Gateway Lambda authorizer would add a "
            "second invocation per request without adding a check, and Cognito would force OAuth on "
            "clients that do not speak it. GET /, /health, /healthz, the OAuth discovery documents and "
            "the authorization, token, registration, revocation and consent endpoints are public on "
            "purpose: they are how a client without a token gets one.",
        )

    @property
    def base_url(self) -> str:
        if self.custom_domain:
            return f"https://{self.custom_domain}"
        return f"https://{self.execute_api_host}"

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}{MCP_PATH}"


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, destination: apigwv2.IAccessLogDestination, log_format: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def _cors(origins: tuple[str, ...]) -> apigwv2.CorsPreflightOptions | None:
    # Without configured origins no browser may call the API; desktop and CLI clients send no Origin.
    if not origins:
        return None
    return apigwv2.CorsPreflightOptions(
        allow_origins=list(origins),
        allow_methods=[
            apigwv2.CorsHttpMethod.GET,
            apigwv2.CorsHttpMethod.POST,
            apigwv2.CorsHttpMethod.DELETE,
            apigwv2.CorsHttpMethod.OPTIONS,
        ],
        allow_headers=list(CORS_ALLOW_HEADERS),
        expose_headers=list(CORS_EXPOSE_HEADERS),
        max_age=Duration.hours(1),
    )

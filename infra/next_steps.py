"""What to do after `make deploy`: `python -m infra.next_steps cdk.out/outputs.json`.

Reads the outputs file `cdk deploy --outputs-file` wrote; calls no AWS API itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

from imagegen.adapters.aws import schema
from infra.outputs import Outputs

CREDENTIAL_KEYS = (
    schema.SECRET_CLOUDFLARE_API_TOKEN,
    schema.SECRET_R2_ACCESS_KEY_ID,
    schema.SECRET_R2_SECRET_ACCESS_KEY,
)

# boto3 (installed with the project) instead of the AWS CLI, which many machines lack. getpass keeps the
# values out of the shell history; an empty answer keeps the current value.
UPDATE_CREDENTIALS_SNIPPET = """\
.venv/bin/python - <<'PY'
import getpass, json, boto3
arn = "{secret_arn}"
sm = boto3.client("secretsmanager", region_name=arn.split(":")[3])
value = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
for key in {keys!r}:
    value[key] = getpass.getpass(f"{{key}} (empty keeps the current value): ") or value.get(key, "")
sm.put_secret_value(SecretId=arn, SecretString=json.dumps(value))
print("Saved. Your bearer token ({token_key}):", value["{token_key}"])
PY"""


def render(stack_name: str, outputs: Mapping[str, str]) -> str:
    mcp_url = outputs.get(Outputs.MCP_URL, "<McpUrl>")
    secret_arn = outputs.get(Outputs.SECRET_ARN, "<SecretArn>")
    lines = [
        f"Deployed {stack_name}. MCP endpoint: {mcp_url}",
        "",
        "1. Store your Cloudflare credentials in the stack's secret (a bearer token, AUTH_TOKEN, was",
        "   generated at deploy). Until then images come from the offline preview provider and cannot",
        "   be uploaded to R2. Needs AWS credentials for the same account, as `cdk deploy` did:",
        "",
        UPDATE_CREDENTIALS_SNIPPET.format(
            secret_arn=secret_arn, keys=CREDENTIAL_KEYS, token_key=schema.SECRET_AUTH_TOKEN
        ),
        "",
        "2. Add the server to your MCP client. Claude and ChatGPT (Settings > Connectors > add a custom",
        f"   connector) and VS Code take the URL alone, {mcp_url}, and open a page where you sign",
        "   in with the token (OAuth). Clients with a header field take it as a bearer header, e.g.:",
        f'   claude mcp add --transport http imagegen {mcp_url} --header "Authorization: Bearer $TOKEN"',
        '   or any client\'s JSON config: {"url": "' + mcp_url + '", '
        '"headers": {"Authorization": "Bearer <AUTH_TOKEN>"}}',
        "",
        "3. Check it: curl -s " + outputs.get(Outputs.API_URL, "<ApiUrl>") + "/health",
        "   Logs: the function log groups are the stack outputs "
        f"{Outputs.API_LOG_GROUP} and {Outputs.WORKER_LOG_GROUP}.",
    ]
    if Outputs.DASHBOARD_NAME in outputs:
        lines.append(f"   Dashboard: CloudWatch > Dashboards > {outputs[Outputs.DASHBOARD_NAME]}.")
    if Outputs.ALARM_TOPIC_ARN in outputs:
        lines += [
            "",
            f"4. Alarms notify the SNS topic {outputs[Outputs.ALARM_TOPIC_ARN]}. If you set alarm_email,",
            "   confirm the SNS subscription e-mail AWS sent, or alarms will not reach you. Chat (Amazon Q",
            "   Developer in chat applications), a pager or a webhook can subscribe to the same topic.",
        ]
    if Outputs.CUSTOM_DOMAIN_TARGET in outputs:
        lines += [
            "",
            f"DNS: CNAME your custom domain to {outputs[Outputs.CUSTOM_DOMAIN_TARGET]} before using the URL.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "cdk.out/outputs.json")
    if not path.is_file():
        print(f"error: {path} not found; `make deploy` writes it", file=sys.stderr)
        return 1
    stacks: dict[str, dict[str, str]] = json.loads(path.read_text())
    for stack_name, outputs in stacks.items():
        print(render(stack_name, outputs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

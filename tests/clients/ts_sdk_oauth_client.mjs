// The TypeScript MCP SDK's own OAuth client (`auth()` with an `OAuthClientProvider`, what hosts such as
// VS Code and Claude are built on) adding a server by its URL alone: the first request is refused with
// 401, the SDK discovers the protected resource and authorization server metadata, registers (Dynamic
// Client Registration) or presents a Client ID Metadata Document URL, and sends the person to the
// authorization URL. Here the "person" is a browser emulation that follows the redirect to the consent
// page, keeps its cookie, fills the form with a key and sends it from the page's origin. The code goes
// back through `finishAuth`; then tools/list, generate_image_and_wait, a refresh, and a call with the
// refreshed token. Prints one JSON report on stdout.
//
//   node tests/clients/ts_sdk_oauth_client.mjs MCP_URL KEY [CLIENT_METADATA_URL]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const [url, key, clientMetadataUrl] = process.argv.slice(2);
if (!url || !key) {
  console.error("usage: ts_sdk_oauth_client.mjs MCP_URL KEY [CLIENT_METADATA_URL]");
  process.exit(2);
}
const REDIRECT_URL = "http://127.0.0.1:53682/callback";

const report = { steps: [] };
const step = async (name, action) => {
  const started = performance.now();
  try {
    const value = await action();
    report.steps.push({ name, ok: true, ms: Math.round(performance.now() - started) });
    return value;
  } catch (error) {
    report.steps.push({ name, ok: false, ms: Math.round(performance.now() - started), error: String(error) });
    throw error;
  }
};

const unescapeHtml = (text) =>
  text.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

// What a person's browser does with the authorization URL: returns the code the client gets back.
async function signInAndAllow(authorizationUrl, expectedState) {
  const started = await fetch(authorizationUrl, { redirect: "manual" });
  if (started.status !== 302) throw new Error(`authorize answered ${started.status}: ${await started.text()}`);
  const consentUrl = new URL(started.headers.get("location"), authorizationUrl);
  const page = await fetch(consentUrl, { redirect: "manual" });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${html}`);
  report.consentPage = {
    frameAncestorsNone: (page.headers.get("content-security-policy") ?? "").includes("frame-ancestors 'none'"),
    xFrameOptions: page.headers.get("x-frame-options"),
  };
  const cookie = page.headers.getSetCookie().map((value) => value.split(";")[0]).join("; ");
  const hidden = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)];
  const fields = Object.fromEntries(hidden.map((match) => [match[1], unescapeHtml(match[2])]));
  const action = unescapeHtml(html.match(/<form method="post" action="([^"]+)">/)[1]);
  const answer = await fetch(action, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, origin: consentUrl.origin, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...fields, key, decision: "allow" }),
  });
  if (answer.status !== 303) throw new Error(`consent answered ${answer.status}: ${await answer.text()}`);
  const callback = new URL(answer.headers.get("location"));
  report.callback = {
    redirectUri: `${callback.origin}${callback.pathname}`,
    stateRoundTripped: callback.searchParams.get("state") === expectedState,
    iss: callback.searchParams.get("iss"),
  };
  return callback.searchParams.get("code");
}

// A host's OAuthClientProvider, keeping everything in memory.
class HostProvider {
  constructor() {
    this.stored = {};
  }
  get redirectUrl() {
    return REDIRECT_URL;
  }
  get clientMetadata() {
    // No token_endpoint_auth_method: a registered client gets a secret (client_secret_post by default).
    return {
      client_name: "imagegen TS SDK OAuth check",
      redirect_uris: [REDIRECT_URL],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    };
  }
  get clientMetadataUrl() {
    return clientMetadataUrl || undefined;
  }
  state() {
    this.expectedState = crypto.randomUUID();
    return this.expectedState;
  }
  clientInformation() {
    return this.stored.client;
  }
  saveClientInformation(information) {
    this.stored.client = information;
  }
  tokens() {
    return this.stored.tokens;
  }
  saveTokens(tokens) {
    this.stored.tokens = tokens;
  }
  saveCodeVerifier(verifier) {
    this.stored.verifier = verifier;
  }
  codeVerifier() {
    return this.stored.verifier;
  }
  async redirectToAuthorization(authorizationUrl) {
    report.authorizationRequest = Object.fromEntries(authorizationUrl.searchParams);
    delete report.authorizationRequest.code_challenge;
    delete report.authorizationRequest.state;
    this.code = await signInAndAllow(authorizationUrl, this.expectedState);
  }
}

const provider = new HostProvider();
const client = new Client({ name: "imagegen-ts-sdk-oauth-check", version: "1.0.0" });
let exitCode = 0;
try {
  const first = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await step("connect without a token", async () => {
    try {
      await client.connect(first);
    } catch (error) {
      if (error instanceof UnauthorizedError) return;
      throw error;
    }
    throw new Error("the server let an unauthenticated client connect");
  });
  await step("finish auth", () => first.finishAuth(provider.code));
  report.clientId = provider.stored.client.client_id;
  report.registration = report.clientId.startsWith("https://") ? "client_id_metadata_document" : "dynamic";
  report.hasClientSecret = Boolean(provider.stored.client.client_secret);
  report.tokenType = provider.stored.tokens.token_type;
  report.scope = provider.stored.tokens.scope;

  await step("connect", () =>
    client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider })),
  );
  const tools = await step("tools/list", () => client.listTools());
  report.tools = tools.tools.map((tool) => tool.name);
  const generated = await step("generate_image_and_wait", () =>
    client.callTool(
      { name: "generate_image_and_wait", arguments: { prompt: "a kite over the sea" } },
      undefined,
      { timeout: 60000 },
    ),
  );
  report.structured = { status: generated.structuredContent?.status, isError: generated.isError ?? false };

  const before = provider.stored.tokens;
  await step("refresh", async () => {
    const result = await auth(provider, { serverUrl: new URL(url) });
    if (result !== "AUTHORIZED") throw new Error(`refresh gave ${result}`);
  });
  report.refreshed = {
    newAccessToken: provider.stored.tokens.access_token !== before.access_token,
    newRefreshToken: provider.stored.tokens.refresh_token !== before.refresh_token,
  };
  const again = await step("call with the refreshed token", () =>
    client.callTool({ name: "get_job_status", arguments: { job_id: generated.structuredContent?.job_id } }),
  );
  report.secondCall = { isError: again.isError ?? false, status: again.structuredContent?.status };
  await step("close", () => client.close());
} catch (error) {
  report.error = String(error);
  exitCode = 1;
}
console.log(JSON.stringify(report));
process.exit(exitCode);

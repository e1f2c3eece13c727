// The TypeScript MCP SDK client (what Claude Desktop/Code, Cursor, VS Code and the Inspector are built
// on) driving one server the way a host does: connect, list tools, generate an image and wait for it,
// fetch the image, then a second call on the same connection. Prints one JSON report on stdout.
//
//   node tests/clients/ts_sdk_client.mjs MCP_URL TOKEN [PROMPT]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token, prompt = "a paper boat on a pond"] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: ts_sdk_client.mjs MCP_URL TOKEN [PROMPT]");
  process.exit(2);
}

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

const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "imagegen-ts-sdk-check", version: "1.0.0" });
transport.onerror = (error) => {
  report.transportErrors = [...(report.transportErrors ?? []), String(error)];
};

let exitCode = 0;
try {
  await step("connect", () => client.connect(transport));
  report.server = client.getServerVersion();
  report.protocolVersion = transport.protocolVersion;
  const tools = await step("tools/list", () => client.listTools());
  report.tools = tools.tools.map((tool) => tool.name);
  const generated = await step("generate_image_and_wait", () =>
    client.callTool({ name: "generate_image_and_wait", arguments: { prompt } }, undefined, { timeout: 60000 }),
  );
  report.isError = generated.isError ?? false;
  report.structured = generated.structuredContent;
  report.contentTypes = generated.content.map((block) => block.type);
  const imageUrl = generated.structuredContent?.image_url;
  if (imageUrl) {
    const image = await step("fetch image", () => fetch(imageUrl));
    const bytes = new Uint8Array(await image.arrayBuffer());
    report.image = { status: image.status, contentType: image.headers.get("content-type"), bytes: bytes.length };
  }
  const again = await step("second call", () =>
    client.callTool({ name: "get_job_status", arguments: { job_id: generated.structuredContent?.job_id } }),
  );
  report.secondCall = { isError: again.isError ?? false, status: again.structuredContent?.status };
  await step("terminate", () => transport.terminateSession());
  await step("close", () => client.close());
} catch (error) {
  report.error = String(error);
  exitCode = 1;
}
console.log(JSON.stringify(report));
process.exit(exitCode);

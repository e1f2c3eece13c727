// The TypeScript MCP SDK's stdio client starting `imagegen stdio` as a desktop client does (a command and
// its arguments from a config file), generating one image and reading it back. Prints one JSON report.
//
//   node tests/clients/ts_sdk_stdio.mjs COMMAND [ARG ...]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [command, ...args] = process.argv.slice(2);
const report = {};
let exitCode = 0;
const transport = new StdioClientTransport({ command, args, env: { ...process.env }, stderr: "pipe" });
const client = new Client({ name: "imagegen-ts-sdk-stdio", version: "1.0.0" });
try {
  await client.connect(transport);
  report.tools = (await client.listTools()).tools.map((tool) => tool.name);
  const result = await client.callTool(
    { name: "generate_image_and_wait", arguments: { prompt: "a desk lamp" } },
    undefined,
    { timeout: 60000 },
  );
  report.structured = result.structuredContent;
  report.contentTypes = result.content.map((block) => block.type);
  report.text = result.content.find((block) => block.type === "text")?.text;
  const read = await client.readResource({ uri: `image://${result.structuredContent.job_id}` });
  report.resource = { mimeType: read.contents[0].mimeType, bytes: Buffer.from(read.contents[0].blob, "base64").length };
  await client.close();
} catch (error) {
  report.error = String(error);
  exitCode = 1;
}
console.log(JSON.stringify(report));
process.exit(exitCode);

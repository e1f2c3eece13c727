// The TypeScript MCP SDK's task API (2025-11-25, `client.experimental.tasks`) against one server, one step
// per process so that a test can disconnect between steps:
//
//   node tests/clients/ts_sdk_tasks.mjs stream MCP_URL TOKEN COUNT   create -> poll -> result in one go
//   node tests/clients/ts_sdk_tasks.mjs start  MCP_URL TOKEN COUNT   create a task, print its id, disconnect
//   node tests/clients/ts_sdk_tasks.mjs resume MCP_URL TOKEN TASK_ID reconnect, poll until done, fetch result
//   node tests/clients/ts_sdk_tasks.mjs cancel MCP_URL TOKEN TASK_ID reconnect, cancel, read the task again
//
// Prints one JSON report on stdout.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";

const [mode, url, token, argument] = process.argv.slice(2);
if (!mode || !url || !token) {
  console.error("usage: ts_sdk_tasks.mjs stream|start|resume|cancel MCP_URL TOKEN [COUNT|TASK_ID]");
  process.exit(2);
}

const report = { mode };
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "imagegen-ts-sdk-tasks", version: "1.0.0" });
const batch = (count) => ({
  name: "generate_image_and_wait",
  arguments: { prompt: "a lantern festival, one image per lantern", count: Number(count ?? 1) },
});

let exitCode = 0;
try {
  await client.connect(transport);
  report.protocolVersion = transport.protocolVersion;
  report.serverTasks = client.getServerCapabilities()?.tasks ?? null;
  const tools = await client.listTools();
  report.taskSupport = Object.fromEntries(tools.tools.map((tool) => [tool.name, tool.execution?.taskSupport ?? null]));

  if (mode === "stream") {
    report.events = [];
    const stream = client.experimental.tasks.callToolStream(batch(argument), CallToolResultSchema, {
      task: { ttl: 600000 },
      timeout: 120000,
    });
    for await (const event of stream) {
      report.events.push(event.type);
      if (event.type === "taskCreated") report.created = event.task;
      if (event.type === "taskStatus") report.lastStatus = event.task;
      if (event.type === "result") report.result = event.result;
      if (event.type === "error") report.error = String(event.error);
    }
  } else if (mode === "start") {
    const stream = client.experimental.tasks.callToolStream(batch(argument), CallToolResultSchema, {
      task: { ttl: 600000 },
    });
    for await (const event of stream) {
      if (event.type === "taskCreated") {
        report.created = event.task;
        break; // disconnect as soon as the task exists, as a client that goes away would
      }
      if (event.type === "error") report.error = String(event.error);
    }
  } else if (mode === "resume") {
    let task = await client.experimental.tasks.getTask(argument);
    report.polls = 1;
    while (!["completed", "failed", "cancelled"].includes(task.status)) {
      await new Promise((resolve) => setTimeout(resolve, task.pollInterval ?? 1000));
      task = await client.experimental.tasks.getTask(argument);
      report.polls += 1;
    }
    report.task = task;
    report.result = await client.experimental.tasks.getTaskResult(argument, CallToolResultSchema);
    report.listed = (await client.experimental.tasks.listTasks()).tasks.map((item) => item.taskId);
  } else if (mode === "cancel") {
    report.cancelled = await client.experimental.tasks.cancelTask(argument);
    report.task = await client.experimental.tasks.getTask(argument);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  await client.close();
} catch (error) {
  report.error = String(error);
  exitCode = 1;
}
console.log(JSON.stringify(report));
process.exit(exitCode);

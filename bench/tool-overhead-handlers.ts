import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { z } from 'zod';
import { RealtimeAgent, RealtimeSession, OpenAIRealtimeWebSocket, tool } from '@openai/agents-realtime';
import { agentSchema } from '../shared/agents/schema';
import { buildSessionConfig } from '../shared/agents/session-config';
import type { ToolGateway } from '../shared/mcp/types';
import { createProvider } from '../shared/providers/index';
import { createHistoryStore } from '../shared/memory/history-store';
import { ensureTables } from '../shared/storage/tables';
import { createMemoryToolRunStore, createTableToolRunStore } from '../shared/stores/tool-runs';
import { SessionTelemetry } from '../shared/telemetry/session';
import { WorkerCore, type WorkerCoreDeps } from '../worker/core';

/**
 * Child process of bench/tool-overhead.ts: opens N sessions of one handler kind against the measuring
 * server and prints `ready` once they are all up. Each kind runs the same instant tool, which reports its
 * own time in its output so the server can subtract it.
 *
 *   floor  — a raw `ws` client: parse, run the tool, send function_call_output + response.create.
 *   worker — the worker's real per-session code (WorkerCore → SidebandSession → ToolExecutor), with the
 *            real provider's openSideband and the production per-session observer (SessionTelemetry, no
 *            exporter); only the I/O around it is in-process: an instant ToolGateway (no MCP hop), the
 *            in-memory ToolRunStore (no Table Storage), and no-op publisher/history/lifecycle.
 *   peer   — @openai/agents-realtime: a RealtimeSession over OpenAIRealtimeWebSocket with a tool().
 *   worker-bare — the worker without the telemetry observer (what the observer costs).
 *   worker-tables — the worker as above but with its real Table Storage stores on Azurite, calling a tool with
 *            side effects: the claim (and the turn's transcript write alongside it) before the tool is on the
 *            path; the output's record after it is sent is not.
 *   worker-tables-ro — the same calling a read-only tool (annotated `readOnlyHint`): no storage on the path.
 *   worker-claims — worker-tables without the history store (no transcript writes at all): the design's floor, the
 *            one conditional insert per call and its delivered mark, nothing else on Azurite.
 */
const [kind, n, url] = [process.argv[2], Number(process.argv[3]), process.argv[4]!];

function instantTool(args: string): string {
  const t0 = performance.now();
  const parsed = JSON.parse(args || '{}') as { order_id?: string };
  const result = { order: parsed.order_id ?? null, status: 'shipped' };
  return JSON.stringify({ ...result, toolMs: performance.now() - t0 });
}

async function floor(count: number) {
  const open = Array.from(
    { length: count },
    () =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url, { headers: { 'api-key': 'bench' } });
        ws.on('message', (data) => {
          const ev = JSON.parse(data.toString()) as { type: string; call_id?: string; arguments?: string };
          if (ev.type !== 'response.function_call_arguments.done') return;
          const output = instantTool(ev.arguments ?? '');
          ws.send(
            JSON.stringify({
              type: 'conversation.item.create',
              item: { type: 'function_call_output', call_id: ev.call_id, output },
            }),
          );
          ws.send(JSON.stringify({ type: 'response.create' }));
        });
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
  );
  await Promise.all(open);
}

/** The worker with its real Table Storage stores (tool-run claim/complete, transcript) on Azurite. */
async function workerTables(count: number, opts: { readOnly?: boolean; noHistory?: boolean } = {}) {
  const storage = { STORAGE_CONNECTION_STRING: process.env.TOOL_BENCH_STORAGE! };
  const toolRuns = createTableToolRunStore(storage);
  await toolRuns.ensureTable();
  await ensureTables(storage as never);
  const history = opts.noHistory ? undefined : createHistoryStore(storage);
  return worker(count, { toolRuns, history, readOnly: opts.readOnly });
}

async function worker(
  count: number,
  stores: Partial<Pick<WorkerCoreDeps, 'toolRuns' | 'history'>> & { bare?: boolean; readOnly?: boolean } = {},
) {
  const agent = agentSchema.parse(JSON.parse(readFileSync('agents/customer-support.json', 'utf8')));
  const provider = createProvider({
    REALTIME_PROVIDER: 'emulator',
    REALTIME_ENDPOINT: url.replace(/^ws/, 'http').replace(/\/v1\/realtime$/, ''),
    REALTIME_API_KEY: 'bench',
    REALTIME_MODEL: 'gpt-realtime',
  } as never);
  const gateway: ToolGateway = {
    toolsFor: async () => [
      {
        type: 'function',
        name: 'get_order',
        description: 'order status',
        parameters: { type: 'object', properties: { order_id: { type: 'string' } } },
      },
    ],
    run: async (_agent, call) => {
      const t0 = performance.now();
      const output = instantTool(call.arguments);
      return { output, isError: false, durationMs: performance.now() - t0 };
    },
    // What the MCP gateway answers from the server's annotations (readOnlyHint / idempotentHint).
    retrySafe: async () => stores.readOnly === true,
  };
  const core = new WorkerCore({
    workerId: 'bench-worker',
    openSideband: (callId) => provider.openSideband(callId),
    agents: { get: async () => agent },
    gateway,
    sessionConfig: (a, tools, sessionId) => buildSessionConfig(a, tools, { model: 'gpt-realtime', sessionId }),
    history: stores.history ?? { append: async () => {} },
    publisher: { publish: async () => {} },
    toolRuns: stores.toolRuns ?? createMemoryToolRunStore(),
    lifecycle: { heartbeats: async () => ({ drop: [] }), report: async () => {} },
    // The production per-session observer (OpenTelemetry span, turn latency, tool spans; no exporter here).
    observe:
      process.env.TOOL_BENCH_NO_OBSERVER || stores.bare
        ? undefined
        : (ids) => {
            const telemetry = new SessionTelemetry(ids);
            return {
              onServerEvent: (event, at) => telemetry.onServerEvent(event, at),
              toolCall: (call, fn) => telemetry.toolCall(call, fn),
              reconnected: (reason) => telemetry.reconnected(reason),
              end: (outcome) => telemetry.end(outcome),
            };
          },
    maxSessions: count + 1,
    heartbeatIntervalMs: 5000,
  });
  core.start();
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      core.attach({
        sessionId: `bench-${i}`,
        callId: `rtc_bench_${i}`,
        agentId: agent.id,
        userId: `u${i}`,
        transport: 'webrtc',
        attempt: 0,
        avoidWorkers: [],
      }),
    ),
  );
}

async function peer(count: number) {
  const getOrder = tool({
    name: 'get_order',
    description: 'order status',
    parameters: z.object({ order_id: z.string() }),
    // The SDK hands the parsed arguments; re-serialise so the tool body is the same as the others'.
    execute: async (input) => instantTool(JSON.stringify(input)),
  });
  const agent = new RealtimeAgent({ name: 'bench', instructions: 'help', tools: [getOrder] });
  await Promise.all(
    Array.from({ length: count }, async () => {
      const session = new RealtimeSession(agent, {
        transport: new OpenAIRealtimeWebSocket({ url }),
        model: 'gpt-realtime',
      });
      session.on('error', () => {});
      await session.connect({ apiKey: 'bench', url });
    }),
  );
}

const run = {
  floor,
  worker: (n: number) => worker(n),
  'worker-bare': (n: number) => worker(n, { bare: true }),
  peer,
  'worker-tables': (n: number) => workerTables(n),
  'worker-tables-ro': (n: number) => workerTables(n, { readOnly: true }),
  'worker-claims': (n: number) => workerTables(n, { noHistory: true }),
}[kind as 'floor' | 'worker' | 'worker-bare' | 'peer' | 'worker-tables' | 'worker-tables-ro' | 'worker-claims'];
if (!run || !Number.isInteger(n) || !url) {
  console.error(
    'usage: tool-overhead-handlers.ts floor|worker|worker-bare|peer|worker-tables|worker-tables-ro|worker-claims <sessions> <ws-url>',
  );
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
run(n).then(
  () => console.log('ready'),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

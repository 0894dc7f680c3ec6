import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { AgentDefinition } from '../shared/agents/schema';
import { createMemoryToolRunStore, createTableToolRunStore } from '../shared/stores/tool-runs';
import { WorkerCore } from '../worker/core';
import { startWorkerServer } from '../worker/server';
import { withSessionReference } from '../shared/calls/binding';
import { holdMessagesUntilListened } from '../shared/providers/realtime-client';

/**
 * The worker process under benchmark (spawned by bench/worker.ts): the real WorkerCore and HTTP API, with the
 * sideband pointed at the bench's fake realtime server, an instant tool, and in-memory history/lifecycle so
 * only the worker's own cost is measured. Toolruns are in memory, or in Azurite when BENCH_TOOLRUNS_CONN is set.
 */
const realtime = process.env.BENCH_REALTIME_URL!;
const secret = process.env.BENCH_SECRET!;
const agent = { id: 'support', instructions: 'help', mcpServers: [] } as unknown as AgentDefinition;

const openSideband = (callId: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`${realtime}/v1/realtime?call_id=${callId}`, { perMessageDeflate: false });
    // As the provider's client does: session.created may arrive before the worker listens.
    holdMessagesUntilListened(ws);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });

const toolRuns = process.env.BENCH_TOOLRUNS_CONN
  ? createTableToolRunStore({ STORAGE_CONNECTION_STRING: process.env.BENCH_TOOLRUNS_CONN })
  : createMemoryToolRunStore();
if ('ensureTable' in toolRuns) await toolRuns.ensureTable();
let appended = 0;

const core = new WorkerCore({
  workerId: `bench-${process.pid}`,
  openSideband,
  agents: { get: async () => agent },
  gateway: {
    toolsFor: async () => [{ type: 'function', name: 'get_order', parameters: { type: 'object', properties: {} } }],
    run: async () => ({ output: '{"status":"shipped"}', isError: false, durationMs: 0 }),
  },
  sessionConfig: (_a, _t, sessionId) => ({
    type: 'realtime',
    model: 'gpt-realtime',
    instructions: withSessionReference('help', sessionId),
  }),
  history: { append: async (_p, items) => void (appended += items.length) },
  publisher: { publish: async () => {} },
  toolRuns,
  lifecycle: { heartbeats: async () => ({ drop: [] }), report: async () => {} },
  maxSessions: 100_000,
  heartbeatIntervalMs: 5000,
});
core.start();

const lag = monitorEventLoopDelay({ resolution: 2 });
lag.enable();
const server = await startWorkerServer({ core, secret, port: 0, host: '127.0.0.1', onDrain: () => {} });

// Bench-only control on stdin: `sample` answers one JSON line with memory and event-loop lag since the last sample.
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  for (const cmd of chunk.split('\n').filter(Boolean)) {
    if (cmd === 'sample') {
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      const out = {
        sessions: core.sessions.size,
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external + m.arrayBuffers,
        lagP50: lag.percentile(50) / 1e6,
        lagP99: lag.percentile(99) / 1e6,
        lagMax: lag.max / 1e6,
        events: core.stats.events,
        transcriptItems: appended,
      };
      lag.reset();
      process.stdout.write(`${JSON.stringify(out)}\n`);
    }
  }
});
process.stdout.write(`ready ${server.port}\n`);

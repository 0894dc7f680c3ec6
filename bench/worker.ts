import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { startAzurite } from '../dev/azurite';
import { percentile, report, round } from './report';
import { withSessionReference } from '../shared/calls/binding';

/**
 * `npm run bench:worker` — one worker process (bench/worker-harness.ts) holding N sideband sessions while a
 * fake realtime server sends each session 5 events/s (transcript deltas, completed items, now and then a
 * response). Measures memory per session, event-loop lag, and the overhead the worker adds to a tool call
 * (claim → run → store → send), with toolruns in memory and in Azurite (Table Storage).
 * BENCH_SESSIONS=250,1000,2000,3000,4000 and BENCH_SECONDS=4 tune the steps; the memory-store tool overhead is
 * measured at the 1000-session step (the first step otherwise).
 */
const STEPS = (process.env.BENCH_SESSIONS ?? '250,1000,2000,3000,4000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const EVENTS_PER_SECOND = 5;
const SECRET = 'bench-secret-0123456789abcdef';
const LAG_LIMIT_MS = 50;

// ---- fake realtime service --------------------------------------------------------------------------------
const sockets = new Map<string, WebSocket>();
const pendingTool = new Map<string, (t: number) => void>();
const http = createServer();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
http.on('upgrade', (req, socket, head) => {
  const callId = new URL(req.url ?? '/', 'http://x').searchParams.get('call_id') ?? '';
  wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.set(callId, ws);
    // Like the service: the session as minted, for session sN of call cN.
    ws.send(
      JSON.stringify({
        type: 'session.created',
        event_id: `ev_created_${callId}`,
        session: { type: 'realtime', instructions: withSessionReference('help', callId.replace(/^c/, 's')) },
      }),
    );
    ws.on('message', (d) => {
      const text = d.toString();
      if (!text.includes('function_call_output')) return;
      const e = JSON.parse(text) as { item: { call_id: string } };
      pendingTool.get(e.item.call_id)?.(performance.now());
    });
    ws.on('close', () => sockets.delete(callId));
  });
});
await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
const realtimeUrl = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;

let seq = 0;
const delta = (n: number) =>
  JSON.stringify({
    type: 'response.output_audio_transcript.delta',
    event_id: `ev_${n}`,
    response_id: 'resp_1',
    item_id: 'item_a',
    output_index: 0,
    content_index: 0,
    delta: 'some words of the answer ',
  });
const completed = (n: number) =>
  JSON.stringify({
    type: 'conversation.item.input_audio_transcription.completed',
    event_id: `ev_${n}`,
    item_id: `item_u${n}`,
    content_index: 0,
    transcript: 'where is my order one two three four',
  });
const itemDone = (n: number) =>
  JSON.stringify({
    type: 'response.output_item.done',
    event_id: `ev_${n}`,
    response_id: 'resp_1',
    output_index: 0,
    item: {
      id: `item_a${n}`,
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_audio', transcript: 'Your order is on its way and should arrive tomorrow.' }],
    },
  });

/** One shared timer: every 200 ms each session gets one event (5/s); one in ten is a completed item. */
const pump = setInterval(() => {
  for (const ws of sockets.values()) {
    const n = ++seq;
    ws.send(n % 20 === 0 ? completed(n) : n % 20 === 10 ? itemDone(n) : delta(n));
  }
}, 1000 / EVENTS_PER_SECOND);

// ---- the worker process ---------------------------------------------------------------------------------
async function startHarness(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/worker-harness.ts'], {
    env: { ...process.env, BENCH_REALTIME_URL: realtimeUrl, BENCH_SECRET: SECRET, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const queue: ((l: string) => void)[] = [];
  lines.on('line', (l) => queue.shift()?.(l));
  const next = () => new Promise<string>((r) => queue.push(r));
  const port = Number((await next()).split(' ')[1]);
  const sample = async () => {
    child.stdin!.write('sample\n');
    return JSON.parse(await next()) as {
      sessions: number;
      rss: number;
      heapUsed: number;
      external: number;
      lagP50: number;
      lagP99: number;
      lagMax: number;
      events: number;
    };
  };
  return { child, port, sample };
}

async function attachMany(port: number, from: number, to: number) {
  const ids = Array.from({ length: to - from }, (_, i) => from + i);
  for (let i = 0; i < ids.length; i += 100) {
    await Promise.all(
      ids.slice(i, i + 100).map(async (n) => {
        const res = await fetch(`http://127.0.0.1:${port}/attach`, {
          method: 'POST',
          headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            sessionId: `s${n}`,
            callId: `c${n}`,
            agentId: 'support',
            userId: `u${n % 50}`,
            transport: 'webrtc',
          }),
        });
        if (!res.ok) throw new Error(`attach ${n}: ${res.status} ${await res.text()}`);
      }),
    );
  }
}

/** Worker-side tool-call overhead: function_call event sent → function_call_output received (instant tool). */
async function toolOverhead(calls: number, sessions: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < calls; i++) {
    const callId = `call_${process.hrtime.bigint()}`;
    const ws = sockets.get(`c${i % sessions}`)!;
    const done = new Promise<number>((r) => pendingTool.set(callId, r));
    const t0 = performance.now();
    ws.send(
      JSON.stringify({
        type: 'response.function_call_arguments.done',
        event_id: `ev_t${i}`,
        response_id: 'r',
        item_id: `fc_${i}`,
        output_index: 0,
        call_id: callId,
        name: 'get_order',
        arguments: '{"orderId":"1234"}',
      }),
    );
    out.push((await done) - t0);
    pendingTool.delete(callId);
  }
  return out;
}

const stop = (c: ChildProcess) => new Promise<void>((r) => (c.once('exit', () => r()), c.kill('SIGKILL')));

// ---- run ------------------------------------------------------------------------------------------------
const rows: Record<string, string | number>[] = [];
const h = await startHarness();
await new Promise((r) => setTimeout(r, 1000));
const base = await h.sample();
let held = 0;
let perSessionKiB = 0;
let memTool: number[] = [];
let memToolAt = 0;
const TOOL_AT = STEPS.includes(1000) ? 1000 : STEPS[0]!;
for (const n of STEPS) {
  await attachMany(h.port, held, n);
  held = n;
  await h.sample(); // resets the lag window after the attach burst
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const s = await h.sample();
  perSessionKiB = (s.heapUsed + s.external - base.heapUsed - base.external) / n / 1024;
  rows.push({
    sessions: s.sessions,
    'events/s': n * EVENTS_PER_SECOND,
    'rss MiB': s.rss / 2 ** 20,
    'heap+ext KiB/session': perSessionKiB,
    'rss KiB/session': (s.rss - base.rss) / n / 1024,
    'lag p50 ms': s.lagP50,
    'lag p99 ms': s.lagP99,
    'lag max ms': s.lagMax,
  });
  if (n === TOOL_AT) {
    memTool = await toolOverhead(200, Math.min(held, 200));
    memToolAt = n;
  }
}
await stop(h.child);

// Tool overhead with toolruns in Table Storage (Azurite): claim + store output are two round trips.
const azurite = await startAzurite();
const h2 = await startHarness({ BENCH_TOOLRUNS_CONN: azurite.connectionString });
await attachMany(h2.port, 0, 50);
const tableTool = await toolOverhead(200, 50);
// (50 sessions × 5 events/s in the background)
await stop(h2.child);
await azurite.stop();
clearInterval(pump);
for (const ws of sockets.values()) ws.terminate();
wss.close();
http.close();

const maxHealthy = rows.filter((r) => Number(r['lag p99 ms']) <= LAG_LIMIT_MS).map((r) => Number(r.sessions));
const toolRows = [
  {
    toolruns: 'memory',
    'p50 ms': percentile(memTool, 50),
    'p95 ms': percentile(memTool, 95),
    'p99 ms': percentile(memTool, 99),
    note: `at ${memToolAt} sessions × 5 events/s`,
  },
  {
    toolruns: 'Azurite table',
    'p50 ms': percentile(tableTool, 50),
    'p95 ms': percentile(tableTool, 95),
    'p99 ms': percentile(tableTool, 99),
    note: 'claim + store output (2 round trips)',
  },
];
report('worker', rows, {
  eventsPerSecondPerSession: EVENTS_PER_SECOND,
  lagLimitMs: LAG_LIMIT_MS,
  sessionsHeldWithinLagLimit: maxHealthy.length ? Math.max(...maxHealthy) : 0,
  memoryPerSessionKiB: round(perSessionKiB),
  toolCallOverhead: toolRows,
});
console.log('\ntool-call overhead (function_call event → function_call_output sent)');
for (const t of toolRows)
  console.log(
    `  ${t.toolruns.padEnd(14)} p50 ${round(t['p50 ms'])} ms  p95 ${round(t['p95 ms'])} ms  p99 ${round(t['p99 ms'])} ms  (${t.note})`,
  );
console.log(
  `\nsessions held with event-loop lag p99 ≤ ${LAG_LIMIT_MS} ms: ${maxHealthy.length ? Math.max(...maxHealthy) : 0} (largest step tried: ${held})`,
);
process.exit(0);

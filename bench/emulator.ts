import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { percentile, report } from './report';

/**
 * `npm run bench:emulator`: N concurrent WebSocket sessions against the realtime emulator (its own process),
 * each doing a text turn and a tool turn (call → function_call_output → answer). Reports events/s and, per
 * server event, the latency since the client event that caused it.
 */
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 500);
const KEY = 'bench-key';
const TIMEOUT_MS = 120_000;

const child = spawn(
  process.execPath,
  ['--import', 'tsx', 'emulators/realtime/cli.ts', '--port', '0', '--key', KEY, '--no-espeak'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url: string = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: child.stdout! });
  rl.once('line', (l) => resolve((JSON.parse(l) as { url: string }).url));
  child.once('exit', (c) => reject(new Error(`emulator exited ${c}`)));
});
const wsUrl = `${url.replace('http', 'ws')}/openai/v1/realtime?model=gpt-realtime`;

const latencies: number[] = [];
const byType = new Map<string, number[]>();
const firstEvent: number[] = [];
const turnLatency: number[] = [];
let events = 0;
let failures = 0; // eslint-disable-line no-useless-assignment -- counted by the session loop

const tools = [
  {
    type: 'function',
    name: 'support__get_order',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
  },
];

async function runSession(i: number): Promise<void> {
  const ws = new WebSocket(wsUrl, { headers: { 'api-key': KEY } });
  let sentAt = 0;
  let first = true;
  let waiter: ((e: RealtimeServerEvent) => void) | undefined;
  ws.on('message', (d) => {
    const e = JSON.parse(d.toString()) as RealtimeServerEvent;
    events++;
    if (sentAt) {
      const dt = performance.now() - sentAt;
      latencies.push(dt);
      const list = byType.get(e.type) ?? [];
      list.push(dt);
      byType.set(e.type, list);
      if (first) firstEvent.push(dt);
      first = false;
    }
    waiter?.(e);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const until = (type: string) =>
    new Promise<RealtimeServerEvent>((resolve) => (waiter = (e) => e.type === type && resolve(e)));
  const send = (e: unknown) => {
    sentAt = performance.now();
    first = true;
    ws.send(JSON.stringify(e));
  };
  const turn = async (events: unknown[]) => {
    const t0 = performance.now();
    const done = until('response.done');
    for (const e of events) send(e);
    const d = await done;
    turnLatency.push(performance.now() - t0);
    return d;
  };
  const created = until('session.updated');
  send({
    type: 'session.update',
    session: { type: 'realtime', output_modalities: ['text'], instructions: 'You are a support agent.', tools },
  });
  await created;
  const user = (text: string) => ({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });
  await turn([user(`hello, this is caller ${i}`), { type: 'response.create' }]);
  const call = await turn([user(`where is my order ${1000 + i}`), { type: 'response.create' }]);
  const item = call.type === 'response.done' ? call.response.output?.[0] : undefined;
  if (item?.type !== 'function_call') throw new Error('expected a function call');
  await turn([
    {
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: item.call_id, output: '{"status":"shipped"}' },
    },
    { type: 'response.create' },
  ]);
  ws.close();
}

const t0 = performance.now();
const timer = setTimeout(() => {
  console.error('bench timed out');
  child.kill('SIGTERM');
  process.exit(1);
}, TIMEOUT_MS);
const results = await Promise.allSettled(Array.from({ length: SESSIONS }, (_, i) => runSession(i)));
clearTimeout(timer);
const seconds = (performance.now() - t0) / 1000;
failures = results.filter((r) => r.status === 'rejected').length;
child.kill('SIGTERM');

const summary = {
  sessions: SESSIONS,
  failedSessions: failures,
  serverEvents: events,
  wallSeconds: seconds,
  eventsPerSecond: events / seconds,
  eventLatencyP50Ms: percentile(latencies, 50),
  eventLatencyP99Ms: percentile(latencies, 99),
  firstEventP50Ms: percentile(firstEvent, 50),
  firstEventP99Ms: percentile(firstEvent, 99),
  turnP50Ms: percentile(turnLatency, 50),
  turnP99Ms: percentile(turnLatency, 99),
};
console.log(
  `${SESSIONS} concurrent sessions × 3 turns, ${failures} failed: ${events} server events in ${seconds.toFixed(2)} s = ${Math.round(events / seconds)} events/s\n` +
    `latency since the causing client event: every event p50 ${summary.eventLatencyP50Ms.toFixed(1)} / p99 ${summary.eventLatencyP99Ms.toFixed(1)} ms; ` +
    `turn to response.done p50 ${summary.turnP50Ms.toFixed(1)} / p99 ${summary.turnP99Ms.toFixed(1)} ms`,
);
const rows = [...byType.entries()]
  .sort((a, b) => percentile(a[1], 50) - percentile(b[1], 50))
  .map(([event, l]) => ({ event, count: l.length, 'p50 ms': percentile(l, 50), 'p99 ms': percentile(l, 99) }));
rows.push({
  event: '(all events)',
  count: latencies.length,
  'p50 ms': summary.eventLatencyP50Ms,
  'p99 ms': summary.eventLatencyP99Ms,
});
report('emulator', rows, {
  summary,
  turnsPerSession: 3,
  note: 'text modality; emulator in its own process; latency = time since the client event that caused it',
});
if (failures) process.exit(1);

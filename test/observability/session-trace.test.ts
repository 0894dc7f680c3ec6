import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { type DataPoint, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { startStack, type Stack } from '../../dev/stack';
import { createScoreStore } from '../../shared/judge/store';
import { initTelemetry, METRIC_NAMES, type Telemetry } from '../../shared/telemetry/index';
import { runLoad } from '../reliability/load-driver';
import { RawClient, wsUrl } from '../emulator/helpers';
import { concat, silence, synthesize, toBase64 } from '../../evals/lib/audio';
import { OnDemandReader } from './on-demand-reader';
import { callRef } from '../../shared/calls/binding';

/**
 * One phone session through the whole local stack, with telemetry on: the Function app (in this process)
 * records into an in-memory exporter; the worker processes export OTLP/HTTP JSON to a collector stand-in.
 * The webhook that created the session, the worker's sideband and tool spans, and the MCP server's span
 * for the tool call must form ONE trace; the session's metrics and its judge score must exist.
 */

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

const spans = new InMemorySpanExporter();
const reader = new OnDemandReader();
const workerSpans: OtlpSpan[] = [];
const workerMetrics = new Set<string>();
let collector: Server;
let telemetry: Telemetry;
let stack: Stack;

/** OTLP/JSON ids may be hex (the JS exporter) or base64 (the spec's proto3 JSON mapping): normalise to hex. */
const hex = (id: string | undefined) =>
  !id ? '' : /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');

async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (req.url === '/v1/traces') {
          for (const rs of body.resourceSpans ?? [])
            for (const ss of rs.scopeSpans ?? []) workerSpans.push(...(ss.spans ?? []));
        } else if (req.url === '/v1/metrics') {
          for (const rm of body.resourceMetrics ?? [])
            for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) workerMetrics.add(m.name);
        }
      } catch {
        // not JSON (another protocol): ignored, the test then fails on missing spans
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const otlp = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  telemetry = await initTelemetry({
    config: { OTEL_EXPORTER: 'none' },
    serviceName: 'functions',
    spanExporter: spans,
    metricReader: reader,
  });
  stack = await startStack({
    ports: 'free',
    env: {
      ...process.env,
      WORKER_REPLICAS: '1',
      OTEL_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await telemetry?.shutdown();
  await new Promise((r) => collector?.close(r));
});

describe('one session, one trace', () => {
  it('joins webhook → worker sideband → tool call → MCP server in one trace, with metrics and a judge score', async () => {
    const load = await runLoad(stack, { sessions: 1, concurrency: 1 });
    expect(load.errors).toEqual([]);
    const { sessionId } = load.sessions[0]!;

    // Function app side (in-memory): the webhook that created the session and the MCP call it served.
    const local = () => spans.getFinishedSpans();
    const webhook = await until('the webhook span', () =>
      local().find((s) => s.name === 'POST /api/webhooks/realtime'),
    );
    const traceId = webhook.spanContext().traceId;
    const mcp = await until('the MCP server span', () =>
      local().find((s) => s.name === 'POST /api/mcp' && s.spanContext().traceId === traceId),
    );

    // Worker side (OTLP): the sideband span and the tool span, in the webhook's trace.
    const sideband = await until(
      'the worker sideband span',
      () => workerSpans.find((s) => s.name === 'voice.session.sideband' && hex(s.traceId) === traceId),
      30_000,
    );
    const tool = await until('the worker tool span', () =>
      workerSpans.find((s) => s.name === 'tool get_order' && hex(s.traceId) === traceId),
    );
    expect(hex(sideband.parentSpanId)).toBe(webhook.spanContext().spanId);
    expect(hex(tool.parentSpanId)).toBe(hex(sideband.spanId));
    // The MCP request carried the tool span's traceparent.
    expect(mcp.parentSpanContext?.spanId).toBe(hex(tool.spanId));
    expect(sideband.attributes?.find((a) => a.key === 'session.id')?.value).toEqual({ stringValue: sessionId });

    // Metrics: Function app (lifecycle state events) and worker (OTLP).
    const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
    const metric = (name: string) =>
      resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .filter((m) => m.descriptor.name === name)
        .flatMap((m) => m.dataPoints as DataPoint<unknown>[]);
    expect(metric(METRIC_NAMES.sessionsStarted).reduce((n, p) => n + (p.value as number), 0)).toBe(1);
    expect((metric(METRIC_NAMES.attachTime) as DataPoint<Histogram>[]).reduce((n, p) => n + p.value.count, 0)).toBe(1);
    await until(
      'worker metrics',
      () =>
        [METRIC_NAMES.sessionsActive, METRIC_NAMES.toolLatency, METRIC_NAMES.tokensIn].every((m) =>
          workerMetrics.has(m),
        ) || undefined,
      15_000,
    );

    // The judge scored the ended session (local lifecycle, in the background).
    const scores = createScoreStore({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING! });
    const score = await until('the judge score', () => scores.get('customer-support', sessionId), 20_000);
    expect(score.scores.taskSuccess?.score).toBeGreaterThanOrEqual(1);
    expect(score.transcriptItems).toBeGreaterThanOrEqual(3);
    // …in the session's trace too.
    const judged = await until('the judge span', () => local().find((s) => s.name === 'judge.session'));
    expect(judged.spanContext().traceId).toBe(traceId);
    expect(judged.attributes['judge.score.overall']).toBe(score.overall);
  });

  it('records per-turn latency (speech stopped → first audio) in the worker for a spoken turn', async () => {
    const emulator = stack.url('realtime emulator');
    const key = stack.env.REALTIME_API_KEY ?? 'emulator-dev-key';
    const res = await fetch(`${emulator}/_emulator/sip/incoming`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15550001111', to: '+18005550100' }),
    });
    expect(res.status).toBe(201);
    const { callId } = (await res.json()) as { callId: string };
    await until('the worker sideband', async () => {
      const { sessions } = (await (await fetch(`${emulator}/_emulator/sessions`)).json()) as {
        sessions: { callId?: string; connections: number }[];
      };
      return (sessions.find((x) => x.callId === callId)?.connections ?? 0) >= 1;
    });
    const caller = await RawClient.open(wsUrl(emulator, `call_id=${callId}`), { 'api-key': key });
    try {
      const pcm = concat(silence(300), await synthesize('where is my order 1234'), silence(1200));
      for (let i = 0; i < pcm.length; i += 2400)
        caller.send({ type: 'input_audio_buffer.append', audio: toBase64(pcm.subarray(i, i + 2400)) });
      await caller.waitFor('input_audio_buffer.speech_stopped', undefined, { timeoutMs: 15_000 });
      // A stranger's number: get_order refuses until the caller verifies, and the answer says so.
      await caller.waitFor(
        'response.output_item.done',
        (e) => e.item.type === 'message' && JSON.stringify(e.item).includes('not verified'),
        { timeoutMs: 15_000 },
      );
    } finally {
      caller.close();
      await fetch(`${emulator}/openai/v1/realtime/calls/${callId}/hangup`, {
        method: 'POST',
        headers: { 'api-key': key },
      });
    }
    await until(
      'the worker turn-latency metric',
      () => workerMetrics.has(METRIC_NAMES.turnLatency) || undefined,
      15_000,
    );
    const sideband = await until(
      'the sideband span with a turn',
      () =>
        workerSpans.find(
          (s) =>
            s.name === 'voice.session.sideband' &&
            s.attributes?.some((a) => a.key === 'realtime.call_ref' && a.value.stringValue === callRef(callId)) &&
            (s as { events?: { name: string }[] }).events?.some((e) => e.name === 'turn'),
        ),
      20_000,
    );
    expect(sideband).toBeDefined();
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type DataPoint, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  initTelemetry,
  withSpan,
  injectTraceHeaders,
  extractTraceContext,
  currentTraceparent,
  contextFromTraceparent,
  SessionTelemetry,
  recordSessionStarted,
  recordAttachTime,
  METRIC_NAMES,
  SpanKind,
  type Telemetry,
} from '../../shared/telemetry/index';
import { OnDemandReader } from './on-demand-reader';

const spans = new InMemorySpanExporter();
const reader = new OnDemandReader();
let telemetry: Telemetry;
let mcp: Server;
let mcpUrl: string;

beforeAll(async () => {
  telemetry = await initTelemetry({
    config: { OTEL_EXPORTER: 'none' },
    serviceName: 'test',
    spanExporter: spans,
    metricReader: reader,
  });
  // A stand-in MCP server: continues the caller's trace from the traceparent header, like the Function app's /api/mcp.
  mcp = createServer((req, res) => {
    const parent = extractTraceContext(req.headers);
    void withSpan(
      'mcp tools/call',
      { 'mcp.method': 'tools/call' },
      async () => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ content: [{ type: 'text', text: 'shipped' }] }));
      },
      { parent, kind: SpanKind.SERVER },
    );
  });
  await new Promise<void>((r) => mcp.listen(0, '127.0.0.1', r));
  mcpUrl = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  await new Promise((r) => mcp?.close(r));
  await telemetry?.shutdown();
});

async function metricPoints(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
  return resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) => m.dataPoints as DataPoint<unknown>[]);
}
const sum = (points: DataPoint<unknown>[]) =>
  points.reduce((a, p) => a + (typeof p.value === 'number' ? p.value : 0), 0);
const histogramCount = (points: DataPoint<unknown>[]) => points.reduce((a, p) => a + (p.value as Histogram).count, 0);

describe('telemetry for one session', () => {
  it('produces one trace from token mint to the MCP tool call, and the session metrics', async () => {
    expect(telemetry.mode).toBe('test');
    // 1. Function app: POST /api/sessions mints a token and stores the trace with the session.
    let stored: string | undefined;
    await withSpan(
      'POST /api/sessions',
      { 'session.id': 's-1', 'agent.id': 'support' },
      async () => {
        recordSessionStarted({ agentId: 'support', transport: 'webrtc' });
        await withSpan('provider.mintClientSecret', { provider: 'emulator' }, async () => {});
        stored = currentTraceparent();
      },
      { kind: SpanKind.SERVER },
    );
    expect(stored).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // 2. Webhook (from the service, no trace header): continues the stored trace.
    await withSpan(
      'POST /api/webhooks/realtime',
      { 'session.id': 's-1' },
      async () => {
        // 3. The worker API call carries the trace in its headers.
        const headers = injectTraceHeaders({ 'content-type': 'application/json' });
        expect(headers.traceparent).toBeDefined();
        await withSpan('worker POST /sessions', {}, async () => {}, {
          parent: extractTraceContext(headers),
          kind: SpanKind.SERVER,
        });
      },
      { parent: contextFromTraceparent(stored), kind: SpanKind.SERVER },
    );

    // 4. The worker's sideband: turn latency, usage and a tool call over HTTP with the trace propagated.
    let now = 10_000;
    const session = new SessionTelemetry({ sessionId: 's-1', agentId: 'support', traceparent: stored }, () => now);
    recordAttachTime(180, { agentId: 'support' });
    session.onServerEvent({ type: 'input_audio_buffer.speech_started' }, 10_000);
    session.onServerEvent({ type: 'input_audio_buffer.speech_stopped' }, 11_000);
    const turn = session.onServerEvent({ type: 'response.output_audio.delta', response_id: 'r1' }, 11_420);
    expect(turn?.latencyMs).toBe(420);
    session.onServerEvent({
      type: 'response.done',
      response: {
        usage: {
          input_tokens: 120,
          output_tokens: 60,
          input_token_details: { text_tokens: 100, audio_tokens: 20 },
          output_token_details: { text_tokens: 10, audio_tokens: 50 },
        },
      },
    });
    const result = await session.toolCall({ name: 'order_status', callId: 'call_1' }, async () => {
      const res = await fetch(mcpUrl, {
        method: 'POST',
        headers: injectTraceHeaders({ 'content-type': 'application/json' }),
      });
      now += 35;
      return { output: await res.text(), isError: false, durationMs: 35 };
    });
    expect(result.isError).toBe(false);
    await session.toolCall({ name: 'order_status', callId: 'call_2' }, async () => ({
      output: 'not found',
      isError: true,
      durationMs: 12,
    }));
    session.end({ reason: 'hangup' });
    session.end({ reason: 'twice is harmless' });

    // One trace across every hop.
    const finished: ReadableSpan[] = spans.getFinishedSpans();
    const names = finished.map((s) => s.name);
    for (const n of [
      'POST /api/sessions',
      'provider.mintClientSecret',
      'POST /api/webhooks/realtime',
      'worker POST /sessions',
      'voice.session.sideband',
      'tool order_status',
      'mcp tools/call',
    ]) {
      expect(names).toContain(n);
    }
    const traceIds = new Set(finished.map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(1);
    const byName = (n: string) => finished.find((s) => s.name === n)!;
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    expect(parentOf(byName('mcp tools/call'))).toBe(byName('tool order_status').spanContext().spanId);
    expect(parentOf(byName('tool order_status'))).toBe(byName('voice.session.sideband').spanContext().spanId);
    expect(parentOf(byName('worker POST /sessions'))).toBe(byName('POST /api/webhooks/realtime').spanContext().spanId);
    const sideband = byName('voice.session.sideband');
    expect(sideband.attributes).toMatchObject({
      'session.id': 's-1',
      'session.turns': 1,
      'session.tokens.input': 120,
      'session.tokens.output': 60,
      'session.end_reason': 'hangup',
    });
    expect(sideband.events.find((e) => e.name === 'turn')?.attributes?.['turn.latency_ms']).toBe(420);
    const failedTool = finished
      .filter((s) => s.name === 'tool order_status')
      .find((s) => s.attributes['tool.call_id'] === 'call_2');
    expect(failedTool?.status.code).toBe(2); // ERROR

    // Metrics.
    expect(sum(await metricPoints(METRIC_NAMES.sessionsStarted))).toBe(1);
    expect(sum(await metricPoints(METRIC_NAMES.sessionsActive))).toBe(0);
    const turnPoints = await metricPoints(METRIC_NAMES.turnLatency);
    expect(histogramCount(turnPoints)).toBe(1);
    expect((turnPoints[0]!.value as Histogram).sum).toBe(420);
    expect(histogramCount(await metricPoints(METRIC_NAMES.attachTime))).toBe(1);
    expect(histogramCount(await metricPoints(METRIC_NAMES.toolLatency))).toBe(2);
    expect(sum(await metricPoints(METRIC_NAMES.toolErrors))).toBe(1);
    const tokensIn = await metricPoints(METRIC_NAMES.tokensIn);
    expect(sum(tokensIn)).toBe(120);
    expect(tokensIn.find((p) => p.attributes.modality === 'audio')?.value).toBe(20);
    expect(sum(await metricPoints(METRIC_NAMES.tokensOut))).toBe(60);
    // No session id in metric attributes (cardinality).
    for (const p of tokensIn) expect(Object.keys(p.attributes)).not.toContain('sessionId');
  });

  it('records a thrown error on the span and rethrows it, with secrets scrubbed', async () => {
    spans.reset();
    await expect(
      withSpan('mint', {}, async () => {
        throw new Error('upstream rejected key sk-abcdefghijklmnop123');
      }),
    ).rejects.toThrow('upstream rejected');
    const span = spans.getFinishedSpans()[0]!;
    expect(span.status.code).toBe(2);
    expect(span.status.message).not.toContain('sk-abcdefghijklmnop123');
    expect(JSON.stringify(span.events)).not.toContain('sk-abcdefghijklmnop123');
  });

  it('ignores a malformed traceparent instead of failing', () => {
    const ctx = extractTraceContext({ traceparent: 'garbage' });
    expect(currentTraceparent(ctx)).toBeUndefined();
  });
});

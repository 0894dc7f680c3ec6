import functions from '@azure/functions';
import type { InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { type DataPoint, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { SessionEvent } from '../../shared/events/types';
import { withSessionJudge } from '../../shared/judge/post-session';
import { traceRoute } from '../../functions/trace-route';
import { withSessionMetrics } from '../../shared/telemetry/lifecycle-metrics';
import { initTelemetry, METRIC_NAMES, type Telemetry } from '../../shared/telemetry/index';
import { OnDemandReader } from './on-demand-reader';

const { HttpRequest } = functions;

const spans = new InMemorySpanExporter();
const reader = new OnDemandReader();
let telemetry: Telemetry;
beforeAll(async () => {
  telemetry = await initTelemetry({
    config: { OTEL_EXPORTER: 'none' },
    serviceName: 'functions',
    spanExporter: spans,
    metricReader: reader,
  });
});
afterAll(async () => {
  await telemetry?.shutdown();
});

async function points(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
  return resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) => m.dataPoints as DataPoint<unknown>[]);
}

const ctx = {} as InvocationContext;

describe('traceRoute (every HTTP function)', () => {
  it('opens a SERVER span named by route template, continuing the caller trace', async () => {
    spans.reset();
    const handler = traceRoute({ name: 'sessions-get', route: 'sessions/{id}' }, async () => ({ status: 200 }));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const req = new HttpRequest({
      method: 'GET',
      url: 'http://localhost/api/sessions/s-9',
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      params: { id: 's-9' },
    });
    expect((await handler(req, ctx)).status).toBe(200);
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('GET /api/sessions/{id}');
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span?.attributes).toMatchObject({
      'session.id': 's-9',
      'http.response.status_code': 200,
      'http.route': '/api/sessions/{id}',
    });
  });

  it('marks 5xx answers as errors and passes OPTIONS through untraced', async () => {
    spans.reset();
    const failing = traceRoute({ name: 'mcp', route: 'mcp' }, async () => ({ status: 503 }));
    await failing(new HttpRequest({ method: 'POST', url: 'http://localhost/api/mcp' }), ctx);
    await failing(new HttpRequest({ method: 'OPTIONS', url: 'http://localhost/api/mcp' }), ctx);
    const finished = spans.getFinishedSpans();
    expect(finished).toHaveLength(1);
    expect(finished[0]!.status.code).toBe(2);
  });
});

describe('withSessionMetrics (lifecycle state events)', () => {
  it('counts started and failed sessions and measures attaching → live', async () => {
    const published: SessionEvent[] = [];
    const rows: Record<
      string,
      { agentId: string; transport: 'webrtc' | 'sip'; createdAt: number; acceptedAt?: number }
    > = {
      a: { agentId: 'concierge', transport: 'webrtc', createdAt: 0 },
      b: { agentId: 'concierge', transport: 'sip', createdAt: 0 },
    };
    const pub = withSessionMetrics(
      { publish: async (e) => void published.push(e) },
      { sessions: { get: async (id) => rows[id] } },
    );
    const state = (
      sessionId: string,
      s: Extract<SessionEvent, { type: 'state' }>['state'],
      at: number,
      reason?: string,
    ) => pub.publish({ type: 'state', sessionId, state: s, at, ...(reason ? { reason } : {}) });
    await state('a', 'requested', 1000);
    await state('a', 'attaching', 2000);
    await state('a', 'live', 2250);
    await state('b', 'requested', 4000);
    rows.b!.acceptedAt = 5_000; // written by the accept, after the row was first read
    // No `attaching` seen in this process (Durable): measured from the row's acceptedAt.
    await state('b', 'live', 5400);
    await state('b', 'failed', 9000, 'workerLost: attach timed out');
    await pub.publish({ type: 'transcript', sessionId: 'a', itemId: 'i', role: 'user', text: 'hi', at: 1 });
    expect(published).toHaveLength(7);

    const started = await points(METRIC_NAMES.sessionsStarted);
    expect(started.reduce((n, p) => n + (p.value as number), 0)).toBe(2);
    const attach = (await points(METRIC_NAMES.attachTime)) as DataPoint<Histogram>[];
    expect(attach.reduce((n, p) => n + p.value.count, 0)).toBe(2);
    expect(attach.reduce((n, p) => n + (p.value.sum ?? 0), 0)).toBe(250 + 400);
    const failed = await points(METRIC_NAMES.sessionsFailed);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attributes).toMatchObject({ agentId: 'concierge', reason: 'workerLost' });
  });

  it('reads no session row when the lifecycle event carries the agent and transport', async () => {
    let reads = 0;
    const pub = withSessionMetrics(
      { publish: async () => {} },
      { sessions: { get: async () => (reads++, undefined) } },
    );
    const ev = (state: 'requested' | 'attaching' | 'live' | 'ended', at: number) =>
      pub.publish({ type: 'state', sessionId: 'c', state, at, agentId: 'concierge', transport: 'webrtc' });
    await ev('requested', 1);
    await ev('attaching', 2);
    await ev('live', 3);
    await ev('ended', 4);
    expect(reads).toBe(0);
  });

  it('still publishes when the session row cannot be read', async () => {
    const published: SessionEvent[] = [];
    const logs: string[] = [];
    const pub = withSessionMetrics(
      { publish: async (e) => void published.push(e) },
      { sessions: { get: async () => Promise.reject(new Error('storage down')) }, log: (l) => logs.push(l) },
    );
    await pub.publish({ type: 'state', sessionId: 'x', state: 'requested', at: 1 });
    expect(published).toHaveLength(1);
    expect(logs[0]).toMatch(/metrics \(requested\) failed: storage down/);
  });
});

describe('withSessionJudge', () => {
  it('judges only ended sessions, after the inner publisher, and never propagates a judge failure', async () => {
    const order: string[] = [];
    const logs: string[] = [];
    let fail = false;
    const pub = withSessionJudge(
      { publish: async (e) => void order.push(`inner ${e.type === 'state' ? e.state : e.type}`) },
      {
        awaitWork: true,
        judge: async (id) => {
          order.push(`judge ${id}`);
          if (fail) throw new Error('judge model down');
          return { status: 'empty' };
        },
        log: (l) => logs.push(l),
      },
    );
    await pub.publish({ type: 'state', sessionId: 's1', state: 'live', at: 1 });
    await pub.publish({ type: 'state', sessionId: 's1', state: 'failed', at: 2 });
    await pub.publish({ type: 'state', sessionId: 's1', state: 'ended', at: 3 });
    fail = true;
    await expect(pub.publish({ type: 'state', sessionId: 's2', state: 'ended', at: 4 })).resolves.toBeUndefined();
    expect(order).toEqual(['inner live', 'inner failed', 'inner ended', 'judge s1', 'inner ended', 'judge s2']);
    expect(logs).toEqual(['session s1 judge: empty', 'session s2 judge failed: judge model down']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataPoint, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DEFAULT_PRICE_TABLE, priceFor, priceTableSetting } from '../../shared/cost/prices';
import { CallCost, addResponseUsage, costOfUsage, emptyUsage } from '../../shared/cost/usage';
import { costPatch, costView, usageFromRow } from '../../shared/cost/session-cost';
import { createCostRecorder } from '../../shared/cost/recorder';
import { loadWorkerConfig } from '../../shared/config/index';
import type { SessionEvent } from '../../shared/events/types';
import { voiceLiveProtocol } from '../../shared/realtime/voice-live';
import { initTelemetry, METRIC_NAMES, type Telemetry } from '../../shared/telemetry/index';
import { OnDemandReader } from '../observability/on-demand-reader';

const reader = new OnDemandReader();
let telemetry: Telemetry;
beforeAll(async () => {
  telemetry = await initTelemetry({ config: { OTEL_EXPORTER: 'none' }, serviceName: 'test', metricReader: reader });
});
afterAll(async () => telemetry?.shutdown());

async function points(name: string): Promise<DataPoint<number>[]> {
  const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
  return resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) => m.dataPoints as DataPoint<number>[]);
}

/** A GA `response.done` usage (node_modules/openai/resources/realtime/realtime.d.ts RealtimeResponseUsage). */
const gaUsage = {
  total_tokens: 1_600,
  input_tokens: 1_200,
  output_tokens: 400,
  input_token_details: {
    text_tokens: 200,
    audio_tokens: 900,
    image_tokens: 100,
    cached_tokens: 500,
    cached_tokens_details: { text_tokens: 100, audio_tokens: 400, image_tokens: 0 },
  },
  output_token_details: { text_tokens: 100, audio_tokens: 300 },
};

describe('usage by modality', () => {
  it('splits a GA usage into text, audio and image; input, cached and output', () => {
    const u = addResponseUsage(emptyUsage(), gaUsage);
    expect(u.text).toEqual({ input: 200, cachedInput: 100, output: 100 });
    expect(u.audio).toEqual({ input: 900, cachedInput: 400, output: 300 });
    expect(u.image).toEqual({ input: 100, cachedInput: 0, output: 0 });
    addResponseUsage(u, null);
    expect(u.responses).toBe(2);
  });

  it('counts a total without a breakdown as text, and cached tokens without theirs from text first', () => {
    const u = addResponseUsage(emptyUsage(), {
      input_tokens: 50,
      output_tokens: 7,
      input_token_details: { audio_tokens: 30, cached_tokens: 40 },
    });
    expect(u.text).toEqual({ input: 20, cachedInput: 20, output: 7 });
    expect(u.audio).toEqual({ input: 30, cachedInput: 20, output: 0 });
  });

  it('reads Voice Live usage through its protocol adapter', () => {
    // Voice Live keeps the beta event shape; its usage has the GA fields.
    const wire = { type: 'response.done', event_id: 'e1', response: { id: 'r1', status: 'completed', usage: gaUsage } };
    const event = voiceLiveProtocol.decode(wire)!;
    const cost = new CallCost('gpt-realtime', DEFAULT_PRICE_TABLE);
    expect(cost.observe(event as never)).toBe(true);
    expect(cost.snapshot().usage.audio.input).toBe(900);
  });

  it('keeps the running total of session seconds from session.usage.updated (never summed)', () => {
    const cost = new CallCost('gpt-live', { 'gpt-live': { perMinute: 0.6 } });
    const ev = (seconds: number) => ({
      type: 'unknown',
      originalType: 'session.usage.updated',
      raw: { type: 'session.usage.updated', usage: { seconds } },
    });
    expect(cost.observe(ev(30))).toBe(true);
    expect(cost.observe(ev(90))).toBe(true);
    expect(cost.observe(ev(90))).toBe(false);
    expect(cost.snapshot().pricedAs).toBe('gpt-live');
    expect(cost.snapshot().usd).toBeCloseTo(0.9, 12);
  });
});

describe('prices', () => {
  it('prices each modality per million tokens, cached input at its own rate', () => {
    const u = addResponseUsage(emptyUsage(), gaUsage);
    // text 100×4 + 100×0.4 + 100×16; audio 500×32 + 400×0.4 + 300×64; image 100×5 — per 1e6
    const expected = (400 + 40 + 1600 + 16_000 + 160 + 19_200 + 500) / 1e6;
    expect(costOfUsage(u, DEFAULT_PRICE_TABLE['gpt-realtime']!)).toBeCloseTo(expected, 12);
  });

  it('finds a dated deployment by its model and prefers the longest entry', () => {
    expect(priceFor(DEFAULT_PRICE_TABLE, 'gpt-realtime-2025-08-28')?.model).toBe('gpt-realtime');
    expect(priceFor(DEFAULT_PRICE_TABLE, 'gpt-realtime-mini-2025-10-06')?.model).toBe('gpt-realtime-mini');
    expect(priceFor(DEFAULT_PRICE_TABLE, 'my-deployment')).toBeUndefined();
    expect(new CallCost('my-deployment', DEFAULT_PRICE_TABLE).snapshot().usd).toBeUndefined();
  });

  it('PRICE_TABLE merges over the defaults and refuses a bad entry with the model named', () => {
    const table = priceTableSetting.parse('{"voice-prod":{"audio":{"input":30,"output":60}}}');
    expect(table['voice-prod']?.audio).toEqual({ input: 30, output: 60 });
    expect(table['gpt-realtime']).toEqual(DEFAULT_PRICE_TABLE['gpt-realtime']);
    const base = {
      REALTIME_ENDPOINT: 'http://127.0.0.1:1',
      WORKER_AUTH_SECRET: 'x'.repeat(16),
      STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
      FUNCTIONS_BASE_URL: 'http://127.0.0.1:2',
    };
    expect(() => loadWorkerConfig({ ...base, PRICE_TABLE: '{"m":{"audio":{"input":-1}}}' })).toThrow(
      /PRICE_TABLE: m\.audio\.input/,
    );
    expect(() => loadWorkerConfig({ ...base, PRICE_TABLE: '{"m":{}}' })).toThrow(/PRICE_TABLE: m: name token prices/);
    expect(() => loadWorkerConfig({ ...base, PRICE_TABLE: 'nope' })).toThrow(/PRICE_TABLE: not valid JSON/);
    expect(loadWorkerConfig({ ...base, COST_ALERT_USD: '0.5' }).COST_ALERT_USD).toBe(0.5);
  });
});

describe('session row', () => {
  it('round-trips usage through the row and answers it with the cost', () => {
    const cost = new CallCost('gpt-realtime', DEFAULT_PRICE_TABLE);
    cost.addResponseUsage(gaUsage);
    const patch = costPatch(cost.snapshot());
    expect(patch).toMatchObject({ inputTokens: 1200, outputTokens: 400, audioCachedTokens: 400 });
    expect(usageFromRow(patch)).toMatchObject({ audio: cost.usage.audio, text: cost.usage.text });
    const view = costView({ ...patch, model: 'gpt-realtime' })!;
    expect(view.cost).toMatchObject({ usd: cost.snapshot().usd, currency: 'USD', pricedAs: 'gpt-realtime' });
    expect(view.usage.audio).toEqual({ input: 900, cachedInput: 400, output: 300 });
    expect(costView({})).toBeUndefined();
  });
});

describe('the worker’s cost recorder', () => {
  const done = (input: number, output: number) => ({
    type: 'response.done',
    response: {
      usage: {
        input_tokens: input,
        output_tokens: output,
        input_token_details: { audio_tokens: input },
        output_token_details: { audio_tokens: output },
      },
    },
  });

  it('pushes the running cost, writes the row at most once per interval and at the end, and alerts once', async () => {
    let clock = 1_000;
    const writes: Record<string, unknown>[] = [];
    const events: SessionEvent[] = [];
    const lines: string[] = [];
    const start = createCostRecorder({
      sessions: {
        get: async () => ({ audioInputTokens: 10_000, inputTokens: 10_000, outputTokens: 0 }),
        update: async (_id, patch) => void writes.push(patch),
      },
      publisher: { publish: async (e) => void events.push(e) },
      prices: DEFAULT_PRICE_TABLE,
      alertUsd: 0.55,
      rowIntervalMs: 10_000,
      now: () => clock,
      log: (l) => lines.push(l),
    });
    const rec = start({ sessionId: 's1', agentId: 'concierge', model: 'gpt-realtime' });
    await new Promise((r) => setImmediate(r)); // the row's usage so far is read when the call starts
    rec.onServerEvent(done(1_000, 1_000)); // first change: written at once
    rec.onServerEvent({ type: 'response.output_audio.delta' });
    clock += 1_000;
    rec.onServerEvent(done(1_000, 1_000)); // within the interval: not written yet
    await new Promise((r) => setImmediate(r));
    // The row already held 10,000 audio input tokens (an earlier call of this session): counting continues.
    expect(writes).toHaveLength(1);
    const costEvents = events.filter((e) => e.type === 'cost');
    expect(costEvents).toHaveLength(2);
    expect(costEvents.at(-1)).toMatchObject({ inputTokens: 12_000, outputTokens: 2_000, alert: false });
    // 13,000 × 32 + 2,500 × 64 per 1e6 = 0.576: past the 0.55 alert, written at once
    clock += 1_000;
    rec.onServerEvent(done(1_000, 500));
    await rec.end();
    const alertLines = lines.filter((l) => l.startsWith('cost alert'));
    expect(alertLines).toEqual(['cost alert: session s1 (agent concierge) passed $0.55 at $0.5760']);
    expect(writes.at(-1)).toMatchObject({
      audioInputTokens: 13_000,
      audioOutputTokens: 2_500,
      costPricedAs: 'gpt-realtime',
    });
    expect(writes.some((w) => typeof w.costAlertAt === 'number')).toBe(true);
    expect((writes.at(-1)!.costUsd as number).toFixed(4)).toBe('0.5760');
    rec.onServerEvent(done(1, 1));
    expect(lines.filter((l) => l.startsWith('cost alert'))).toHaveLength(1);

    // The metric counts what accrued here (3,000 × 32 + 2,500 × 64, then 32 + 64), not what the row already held.
    const cost = (await points(METRIC_NAMES.sessionCost)).find((p) => p.attributes.agentId === 'concierge');
    expect(cost?.value).toBeCloseTo((96_000 + 160_000 + 32 + 64) / 1e6, 9);
    const alerts = (await points(METRIC_NAMES.costAlerts)).find((p) => p.attributes.agentId === 'concierge');
    expect(alerts?.value).toBe(1);
  });

  it('writes nothing for a call that was never billed', async () => {
    const writes: unknown[] = [];
    const rec = createCostRecorder({
      sessions: { get: async () => undefined, update: async (_i, p) => void writes.push(p) },
      publisher: { publish: async () => {} },
      prices: DEFAULT_PRICE_TABLE,
    })({ sessionId: 's2', agentId: 'a', model: 'gpt-realtime' });
    rec.onServerEvent({ type: 'session.created' });
    await rec.end();
    expect(writes).toEqual([]);
  });
});

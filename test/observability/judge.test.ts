import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataPoint, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { startRealtimeEmulator, registerTextRule, type RealtimeEmulator } from '../../emulators/realtime/index';
import { createAgentStore, loadAgentFiles } from '../../shared/agents/store';
import { createHistoryStore } from '../../shared/memory/history-store';
import type { TranscriptItem } from '../../shared/memory/types';
import { ensureTables } from '../../shared/storage/tables';
import { createSessionStore, type SessionRow } from '../../shared/stores/sessions';
import { createScoreStore, createSessionJudge, JUDGE_PROMPT_MARKER, type JudgeConfig } from '../../shared/judge/index';
import { initTelemetry, METRIC_NAMES, type Telemetry } from '../../shared/telemetry/index';
import { OnDemandReader } from './on-demand-reader';

let azurite: Azurite;
let emulator: RealtimeEmulator;
let config: JudgeConfig;
let telemetry: Telemetry;
const reader = new OnDemandReader();
let chatCalls = 0;

const item = (
  sessionId: string,
  n: number,
  role: TranscriptItem['role'],
  text: string,
  toolName?: string,
): TranscriptItem => ({
  itemId: `item_${sessionId.slice(-4)}_${n}`,
  sessionId,
  agentId: 'customer-support',
  role,
  text,
  at: 1_780_000_000_000 + n * 1000,
  ...(toolName ? { toolName, callId: `call_${n}` } : {}),
});

async function endedSession(sessionId: string, items: TranscriptItem[]) {
  const record: SessionRow = {
    sessionId,
    agentId: 'customer-support',
    transport: 'webrtc',
    userId: 'u-judge',
    historyPartition: 'user:u-judge',
    state: 'ended',
    createdAt: Date.now(),
    model: 'gpt-realtime',
    resume: true,
    endedAt: Date.now(),
    endReason: 'hangup',
  };
  await createSessionStore(config).create(record);
  if (items.length) await createHistoryStore(config).append(record.historyPartition, items);
}

beforeAll(async () => {
  telemetry = await initTelemetry({
    config: { OTEL_EXPORTER: 'none' },
    serviceName: 'judge-test',
    metricReader: reader,
  });
  [azurite, emulator] = await Promise.all([
    startAzurite(),
    startRealtimeEmulator({ apiKeys: ['judge-test-key'], useEspeak: false }),
  ]);
  config = {
    STORAGE_CONNECTION_STRING: azurite.connectionString,
    REALTIME_PROVIDER: 'emulator',
    REALTIME_ENDPOINT: emulator.url,
    REALTIME_API_KEY: 'judge-test-key',
    TEXT_MODEL: 'gpt-4.1-mini',
    JUDGE_MODEL: 'judge-4.1',
  };
  await ensureTables(config);
  await createAgentStore(config).seed(await loadAgentFiles('agents'));
});

afterAll(async () => {
  await Promise.allSettled([emulator?.stop(), azurite?.stop()]);
  await telemetry?.shutdown();
});

describe('LLM-as-judge after a session ends', () => {
  it('scores a good conversation, stores it in the scores table and emits the scores as metrics', async () => {
    const sessionId = '7d0c1c7e-0000-4000-8000-000000000001';
    await endedSession(sessionId, [
      item(sessionId, 1, 'user', 'Hi, where is my order 1234?'),
      item(
        sessionId,
        2,
        'tool',
        '{"orderId":"1234","status":"shipped","carrier":"UPS","eta":"2026-11-30"}',
        'get_order',
      ),
      item(
        sessionId,
        3,
        'assistant',
        'Thanks for waiting! Order 1234 shipped with UPS and should arrive on 2026-11-30.',
      ),
    ]);
    const judge = createSessionJudge(config);
    const result = await judge(sessionId);
    expect(result.status).toBe('scored');

    const stored = await createScoreStore(config).get('customer-support', sessionId);
    expect(stored).toMatchObject({
      sessionId,
      agentId: 'customer-support',
      judgeModel: 'judge-4.1',
      rubric: 'customer-support.md',
      transcriptItems: 3,
      overall: 5,
    });
    expect(Object.keys(stored!.scores).sort()).toEqual(['groundedness', 'politeness', 'safety', 'taskSuccess']);

    const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
    const points = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === METRIC_NAMES.judgeScore)
      .flatMap((m) => m.dataPoints as DataPoint<Histogram>[]);
    const criteria = points.map((p) => p.attributes.criterion).sort();
    expect(criteria).toEqual(['groundedness', 'overall', 'politeness', 'safety', 'taskSuccess']);
    expect(points.every((p) => p.attributes.agentId === 'customer-support' && p.value.sum === 5)).toBe(true);

    // A retried activity does not call the judge model again.
    const again = await judge(sessionId);
    expect(again.status).toBe('already_scored');
  });

  it('scores a bad conversation low (the verdict depends on the transcript)', async () => {
    const sessionId = '7d0c1c7e-0000-4000-8000-000000000002';
    await endedSession(sessionId, [
      item(sessionId, 1, 'user', 'Where is order 5555?'),
      item(sessionId, 2, 'assistant', 'Whatever, it arrives in 3 days. Write to jane.doe@example.com.'),
    ]);
    const result = await createSessionJudge(config)(sessionId);
    expect(result.status).toBe('scored');
    const stored = await createScoreStore(config).get('customer-support', sessionId);
    expect(stored!.scores.groundedness!.score).toBe(1);
    expect(stored!.scores.politeness!.score).toBe(1);
    expect(stored!.scores.safety!.score).toBe(1);
    expect(stored!.overall).toBeLessThan(3);
    const listed = await createScoreStore(config).listForAgent('customer-support');
    expect(listed.map((s) => s.sessionId).sort()).toEqual(['7d0c1c7e-0000-4000-8000-000000000001', sessionId]);
  });

  it('retries once when the judge answers with invalid JSON, then stores the valid verdict', async () => {
    const sessionId = '7d0c1c7e-0000-4000-8000-000000000003';
    await endedSession(sessionId, [
      item(sessionId, 1, 'user', 'Thanks, bye'),
      item(sessionId, 2, 'assistant', 'Thank you, goodbye!'),
    ]);
    const remove = registerTextRule({
      id: 'judge-flaky',
      marker: JUDGE_PROMPT_MARKER,
      respond: (req) => {
        chatCalls++;
        // First answer: prose. The corrective retry carries the first answer back as an assistant message.
        return req.messages.some((m) => m.role === 'assistant')
          ? {
              scores: {
                taskSuccess: { score: 4, reason: 'ok' },
                groundedness: { score: 5, reason: 'ok' },
                politeness: { score: 5, reason: 'ok' },
                safety: { score: 5, reason: 'ok' },
              },
              summary: 'retried',
            }
          : 'The assistant did well overall.';
      },
    });
    try {
      const result = await createSessionJudge(config)(sessionId);
      expect(result.status).toBe('scored');
      expect(chatCalls).toBe(2);
      expect((await createScoreStore(config).get('customer-support', sessionId))?.summary).toBe('retried');
    } finally {
      remove();
    }
  });

  it('fails (stores nothing) when the verdict stays invalid, and skips unknown or empty sessions', async () => {
    const sessionId = '7d0c1c7e-0000-4000-8000-000000000004';
    await endedSession(sessionId, [item(sessionId, 1, 'user', 'hello'), item(sessionId, 2, 'assistant', 'Hi!')]);
    const remove = registerTextRule({
      id: 'judge-broken',
      marker: JUDGE_PROMPT_MARKER,
      respond: () => ({ scores: { taskSuccess: { score: 11 } } }),
    });
    try {
      await expect(createSessionJudge(config)(sessionId)).rejects.toThrow(/not a valid verdict/);
      expect(await createScoreStore(config).get('customer-support', sessionId)).toBeUndefined();
    } finally {
      remove();
    }
    expect((await createSessionJudge(config)('7d0c1c7e-0000-4000-8000-0000000000ff')).status).toBe('no_session');
    const empty = '7d0c1c7e-0000-4000-8000-000000000005';
    await endedSession(empty, []);
    expect((await createSessionJudge(config)(empty)).status).toBe('empty');
  });
});

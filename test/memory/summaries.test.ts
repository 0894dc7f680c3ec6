import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { buildSeed, createWorkerSeeder } from '../../shared/memory/context';
import { createHistoryStore } from '../../shared/memory/history-store';
import { countRequests } from '../../shared/memory/request-counter';
import { summarizeSession, type SummarizeDeps } from '../../shared/memory/summarize';
import { createTextModel, type TextModel } from '../../shared/memory/text-model';
import { historyPartition, type MemoryStore, type TranscriptItem } from '../../shared/memory/types';
import { createSessionStore, type SessionStore } from '../../shared/stores/sessions';

const AGENT = 'concierge';
let n = 0;
const say = (sessionId: string, role: 'user' | 'assistant', text: string, at: number): TranscriptItem => ({
  itemId: `item_${sessionId}_${++n}`,
  sessionId,
  agentId: AGENT,
  role,
  text,
  at,
});

describe('summaries after a session ends (Azurite + emulator text model)', () => {
  let azurite: Azurite;
  let emulator: RealtimeEmulator;
  let history: MemoryStore;
  let sessions: SessionStore;
  let historyClient: TableClient;
  let sessionsClient: TableClient;
  let deps: SummarizeDeps;
  let model: TextModel;
  let prompts: number;

  async function newSession(sessionId: string, userId: string, items: [string, string][], at: number) {
    const partition = historyPartition({ userId });
    await sessions.create({
      sessionId,
      agentId: AGENT,
      transport: 'webrtc',
      userId,
      historyPartition: partition,
      state: 'ended',
      createdAt: at,
      model: 'gpt-realtime',
      resume: true,
      endedAt: at + 60_000,
      endReason: 'hangup',
    });
    await history.append(
      partition,
      items.map(([role, text], i) => say(sessionId, role as 'user' | 'assistant', text, at + i * 1000)),
    );
    return partition;
  }

  beforeAll(async () => {
    [azurite, emulator] = await Promise.all([startAzurite(), startRealtimeEmulator({ port: 0, useEspeak: false })]);
    const conn = azurite.connectionString;
    historyClient = TableClient.fromConnectionString(conn, 'history', { allowInsecureConnection: true });
    sessionsClient = TableClient.fromConnectionString(conn, 'sessions', { allowInsecureConnection: true });
    await Promise.all([historyClient.createTable(), sessionsClient.createTable()]);
    history = createHistoryStore({ STORAGE_CONNECTION_STRING: conn }, { client: historyClient });
    sessions = createSessionStore({ STORAGE_CONNECTION_STRING: conn }, sessionsClient);
    const real = createTextModel({
      REALTIME_PROVIDER: 'emulator',
      REALTIME_ENDPOINT: emulator.url,
      REALTIME_API_KEY: 'emulator-dev-key',
      TEXT_MODEL: 'gpt-4.1-mini',
    });
    prompts = 0;
    model = { complete: (m, o) => (prompts++, real.complete(m, o)) };
    deps = {
      config: {
        REALTIME_PROVIDER: 'emulator',
        REALTIME_ENDPOINT: emulator.url,
        REALTIME_API_KEY: 'emulator-dev-key',
        TEXT_MODEL: 'gpt-4.1-mini',
      },
      history,
      sessions,
      textModel: model,
    };
  });
  afterAll(async () => {
    await emulator?.stop();
    await azurite?.stop();
  });

  it('summarizes into the session row and the rolling summary; facts reach the next seed', async () => {
    const t = Date.UTC(2026, 10, 20);
    const p = await newSession(
      '0b7f5e4e-0000-4000-8000-000000000001',
      'ada',
      [
        ['user', 'Hello, my name is Ada and I live in Lisbon.'],
        ['assistant', 'Nice to meet you, Ada. How can I help?'],
        ['user', 'I like window seats.'],
      ],
      t,
    );
    const r = await summarizeSession(deps, '0b7f5e4e-0000-4000-8000-000000000001');
    expect(r).toMatchObject({ status: 'summarized', items: 3 });
    const row = await sessions.get('0b7f5e4e-0000-4000-8000-000000000001');
    expect(row?.summary).toBe('- Name: Ada\n- Lives in: Lisbon\n- Likes: window seats');
    expect(row?.transcriptItems).toBe(3);
    expect((await history.getSummary(p, AGENT))?.text).toBe(row?.summary);

    // Session 2 changes one fact: the rolling summary keeps the rest and takes the newer one.
    await newSession(
      '0b7f5e4e-0000-4000-8000-000000000002',
      'ada',
      [['user', 'I moved, I live in Porto now.']],
      t + 86_400_000,
    );
    await summarizeSession(deps, '0b7f5e4e-0000-4000-8000-000000000002');
    const rolling = await history.getSummary(p, AGENT);
    expect(rolling).toMatchObject({ text: '- Name: Ada\n- Likes: window seats\n- Lives in: Porto', sessions: 2 });

    // What the worker sends when session 3 attaches.
    const seed = await buildSeed({ history, partition: p, agentId: AGENT, budgetTokens: 2000, lastTurns: 20 });
    const first = seed.events[0]!.item as { role: string; content: { text: string }[] };
    expect(first.role).toBe('user');
    expect(first.content[0]!.text).toContain('- Name: Ada');
    expect(first.content[0]!.text).toContain('- Lives in: Porto');
  });

  it('is safe to retry: the same session is not summarized or folded twice', async () => {
    const before = prompts;
    const r = await summarizeSession(deps, '0b7f5e4e-0000-4000-8000-000000000002');
    expect(r.status).toBe('already_folded');
    expect(prompts).toBe(before);
    expect((await history.getSummary(historyPartition({ userId: 'ada' }), AGENT))?.sessions).toBe(2);
  });

  it('two sessions of one caller ending together both land in the rolling summary', async () => {
    const t = Date.UTC(2026, 10, 21);
    await newSession('0b7f5e4e-0000-4000-8000-000000000011', 'bea', [['user', 'My name is Bea.']], t);
    await summarizeSession(deps, '0b7f5e4e-0000-4000-8000-000000000011');
    await newSession('0b7f5e4e-0000-4000-8000-000000000012', 'bea', [['user', 'I live in Oslo.']], t + 1000);
    await newSession('0b7f5e4e-0000-4000-8000-000000000013', 'bea', [['user', 'I like skiing.']], t + 2000);
    await Promise.all([
      summarizeSession(deps, '0b7f5e4e-0000-4000-8000-000000000012'),
      summarizeSession(deps, '0b7f5e4e-0000-4000-8000-000000000013'),
    ]);
    const rolling = await history.getSummary(historyPartition({ userId: 'bea' }), AGENT);
    expect(rolling?.sessions).toBe(3);
    expect(rolling?.text).toContain('- Name: Bea');
    expect(rolling?.text).toContain('- Lives in: Oslo');
    expect(rolling?.text).toContain('- Likes: skiing');
  });

  it('a session without transcript, an unknown session, and deleted history fold nothing', async () => {
    const t = Date.UTC(2026, 10, 22);
    await newSession('0b7f5e4e-0000-4000-8000-000000000021', 'cy', [], t);
    expect((await summarizeSession(deps, '0b7f5e4e-0000-4000-8000-000000000021')).status).toBe('empty');
    expect((await summarizeSession(deps, '0b7f5e4e-0000-4000-8000-0000000000ff')).status).toBe('no_session');
    const p = await newSession('0b7f5e4e-0000-4000-8000-000000000022', 'cy', [['user', 'My name is Cy.']], t);
    await history.deleteAll(p);
    expect((await summarizeSession(deps, '0b7f5e4e-0000-4000-8000-000000000022')).status).toBe('empty');
    expect(await history.getSummary(p, AGENT)).toBeUndefined();
  });

  it('Table transactions per session stay within budget (seed + transcript batches + summary)', async () => {
    const h = countRequests(historyClient);
    const s = countRequests(sessionsClient);
    const sid = '0b7f5e4e-0000-4000-8000-000000000031';
    const t = Date.UTC(2026, 10, 23);
    // A returning user: one earlier session already summarized.
    await newSession('0b7f5e4e-0000-4000-8000-000000000030', 'dee', [['user', 'My name is Dee.']], t);
    await summarizeSession(deps, '0b7f5e4e-0000-4000-8000-000000000030');
    await sessions.create({
      sessionId: sid,
      agentId: AGENT,
      transport: 'webrtc',
      userId: 'dee',
      historyPartition: 'user:dee',
      state: 'live',
      createdAt: t + 86_400_000,
      model: 'gpt-realtime',
      resume: true,
    });
    h.reset();
    s.reset();
    // Attach: the worker's seeder (reads the row for `resume`), then the lifecycle's `live` bookkeeping write.
    const seeder = createWorkerSeeder({
      history,
      sessions,
      config: { MEMORY_SEED_TOKENS: 2000, MEMORY_SEED_TURNS: 20 },
    });
    const events = await seeder({ sessionId: sid, agentId: AGENT, partition: 'user:dee' });
    expect(events.length).toBeGreaterThan(1);
    const seedRequests = h.requests + s.requests;
    await sessions.update(sid, { state: 'live', liveAt: t + 86_400_500 });
    // 40 turns flushed by the worker's tick in 4 batches of 10 (worst case: every tick has something).
    const before = h.requests + s.requests;
    const items = Array.from({ length: 40 }, (_, i) =>
      say(sid, i % 2 ? 'assistant' : 'user', `turn ${i}`, t + 86_400_000 + i * 1000),
    );
    for (let i = 0; i < 40; i += 10) await history.append('user:dee', items.slice(i, i + 10));
    const transcriptRequests = h.requests + s.requests - before;
    // Ended: timings, end reason and summary in one row merge, then the rolling summary.
    await summarizeSession(deps, sid, { state: 'ended', endedAt: t + 86_500_000, endReason: 'hangup' });
    const total = h.requests + s.requests;
    const other = total - transcriptRequests;
    console.log(
      `Table requests per session (memory's share): seed ${seedRequests}, live 1, transcript ${transcriptRequests} (batches), ` +
        `end + summary ${other - seedRequests - 1}; total excluding transcript batches ${other}`,
      { history: h.byMethod, sessions: s.byMethod },
    );
    const row = await sessions.get(sid);
    expect(row).toMatchObject({ state: 'ended', endReason: 'hangup', liveAt: t + 86_400_500, transcriptItems: 40 });
    expect(row?.summary).toBe('- No lasting facts.');
    expect((await history.getSummary('user:dee', AGENT))?.text).toBe('- Name: Dee');
    expect(transcriptRequests).toBe(4);
    expect(other).toBeLessThanOrEqual(10);
  });
});
